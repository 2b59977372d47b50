#include "common/log.h"

#include "common/encoding.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace vendo {
namespace {

TEST(AppendJsonEscaped, EscapesOnlyWhatJsonRequires) {
  std::string out = "x";
  AppendJsonEscaped(out, "plain \"quoted\" back\\slash\nnew\ttab\x01\x7f \xc3\xa4");
  EXPECT_EQ(out, "xplain \\\"quoted\\\" back\\\\slash\\nnew\\ttab\\u0001\\u007f \xc3\xa4");
  std::string empty;
  AppendJsonEscaped(empty, "");
  EXPECT_EQ(empty, "");
  std::string tail;
  AppendJsonEscaped(tail, "end\"");
  EXPECT_EQ(tail, "end\\\"");
}

TEST(AppendJsonEscaped, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  std::string out;
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, a 0xff.
  AppendJsonEscaped(out, "a\x80" "b\xc3" "c\xc0\xaf" "d\xed\xa0\x80" "e\xff\xf0\x9f\x98\x80");
  EXPECT_EQ(out, "a\\ufffd" "b\\ufffd" "c\\ufffd\\ufffd" "d\\ufffd\\ufffd\\ufffd" "e\\ufffd\xf0\x9f\x98\x80");
  EXPECT_TRUE(IsValidUtf8(out));
}

}  // namespace
}  // namespace vendo

namespace vendo {
namespace {

TEST(AppendUtcMillis, FormatsUtcWithZeroPaddedMillisecondsAcrossSeconds) {
  using std::chrono::milliseconds;
  using TP = std::chrono::system_clock::time_point;
  auto format = [](std::int64_t ms) {
    std::string out("ts=");
    AppendUtcMillis(out, TP(milliseconds(ms)));
    return out;
  };
  EXPECT_EQ(format(1795500000007), "ts=2026-11-24T06:00:00.007Z");
  EXPECT_EQ(format(1795500001999), "ts=2026-11-24T06:00:01.999Z");  // the next second
  EXPECT_EQ(format(-1), "ts=1969-12-31T23:59:59.999Z");  // before 1970: floor, not truncation
}

TEST(LogLine, FieldsFormatAsOneJsonObject) {
  LogLine line(LogLevel::kInfo, "request \"x\"");
  line.Str("path", "/gettoken").Int("status", 401).Int("neg", -7).Num("latency_ms", 0.1235);
  line.Bool("tls", false).Millis("ms", 1234).Millis("zero", 7).Millis("big", 12345678);
  std::string json = line.Json();
  EXPECT_TRUE(json.starts_with("{\"ts\":\"")) << json;
  EXPECT_TRUE(
      json.ends_with("Z\",\"level\":\"info\",\"msg\":\"request \\\"x\\\"\",\"path\":\"/gettoken\","
                     "\"status\":401,\"neg\":-7,\"latency_ms\":0.123,\"tls\":false,\"ms\":1.234,"
                     "\"zero\":0.007,\"big\":12345.678}"))
      << json;
  // "2026-11-24T05:11:38.123Z": date, 'T', time, three digits of milliseconds.
  EXPECT_EQ(json.find('Z'), 30u) << json;
  EXPECT_EQ(json[7 + 19], '.');
}

}  // namespace
}  // namespace vendo

namespace vendo {
namespace {

// Lines from many threads all arrive, whole, through the per-thread buffers: more threads than
// stripes, and more bytes than a buffer holds, so buffers fill and are written mid-test.
TEST(BufferedLogging, EveryLineFromEveryThreadArrivesWhole) {
  char path[] = "/tmp/vendo-log-test-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(fd, STDERR_FILENO);
  InitLogging(LogLevel::kInfo);
  constexpr int kThreads = 20;
  constexpr int kLines = 2000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) {
        LogLine(LogLevel::kInfo, "line")
            .Int("t", t)
            .Int("i", i)
            .Str("pad", std::string(40, 'x'))
            .Emit();
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  ShutdownLogging();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::ifstream in(path);
  std::set<std::pair<int, int>> seen;
  std::string line;
  while (std::getline(in, line)) {
    int t = -1;
    int i = -1;
    auto at = line.find("\"t\":");
    ASSERT_NE(at, std::string::npos) << line;
    ASSERT_EQ(std::sscanf(line.c_str() + at, "\"t\":%d,\"i\":%d", &t, &i), 2) << line;
    EXPECT_TRUE(line.starts_with("{\"ts\":") && line.ends_with("\"}")) << line;
    seen.insert({t, i});
  }
  ::close(fd);
  ::unlink(path);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kLines));
}

}  // namespace
}  // namespace vendo
