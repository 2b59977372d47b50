#include "common/log.h"

#include <gtest/gtest.h>

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
