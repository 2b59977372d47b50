#include "vending/audit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "testing/error_is.h"
#include "testing/fixed_clock.h"
#include "testing/recording_audit_sink.h"
#include "testing/temp_dir.h"

using vendo::testing::ErrorIs;

namespace vendo::server {
namespace {

class FailingSink final : public AuditSink {
 public:
  Status Write(std::string_view) override { return Fail(ErrorCode::kUnavailable, "disk full"); }
};

using RecordingSink = testing::RecordingAuditSink;

// Holds posted tasks until told to run them, as a network thread's queue would.
class QueueRunner final : public TaskRunner {
 public:
  void Post(std::function<void()> task) override { tasks.push_back(std::move(task)); }
  void RunAll() {
    while (!tasks.empty()) {
      auto task = std::move(tasks.front());
      tasks.erase(tasks.begin());
      task();
    }
  }
  std::vector<std::function<void()>> tasks;
};

FixedClock Clock() {
  return FixedClock(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1795500000123)));
}

TEST(AuditLog, WritesOneJsonLinePerEventWithoutEmptyFields) {
  testing::TempDir dir;
  auto sink = OpenAuditSink(dir.File("audit.log"));
  ASSERT_TRUE(sink) << sink.error().message;
  FixedClock clock = Clock();
  AuditLog log(**sink, clock);
  ASSERT_TRUE(log.Record({.action = "vend",
                          .outcome = "ok",
                          .app = "photos",
                          .request_id = "r-1",
                          .client = "203.0.113.9",
                          .device = "dev\"1",
                          .user = "alice",
                          .issuer = "aws-assume-role",
                          .policy_sha256 = "ab12",
                          .duration_seconds = 3600}));
  ASSERT_TRUE(log.Record({.action = "register_device", .outcome = "already_exists", .app = "a"}));
  std::ifstream in(dir.File("audit.log"));
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(),
            "{\"ts\":\"2026-11-24T06:00:00.123Z\",\"audit\":\"vend\",\"outcome\":\"ok\","
            "\"app\":\"photos\",\"device\":\"dev\\\"1\",\"user\":\"alice\",\"client\":"
            "\"203.0.113.9\",\"issuer\":\"aws-assume-role\",\"policy_sha256\":\"ab12\","
            "\"duration_s\":3600,\"request_id\":\"r-1\"}\n"
            "{\"ts\":\"2026-11-24T06:00:00.123Z\",\"audit\":\"register_device\",\"outcome\":"
            "\"already_exists\",\"app\":\"a\"}\n");
}

TEST(AuditLog, AFailedWriteIsAnError) {
  FailingSink sink;
  FixedClock clock = Clock();
  AuditLog log(sink, clock);
  auto r = log.Record({.action = "vend", .outcome = "ok"});
  ASSERT_FALSE(r);
  EXPECT_THAT(r, ErrorIs(ErrorCode::kUnavailable));
}

TEST(AuditLog, TheFileIsPrivateAndAFullDiskFails) {
  testing::TempDir dir;
  ASSERT_TRUE(OpenAuditSink(dir.File("a.log")));
  struct stat st {};
  ASSERT_EQ(::stat(dir.File("a.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto full = OpenAuditSink("/dev/full");
  ASSERT_TRUE(full);
  EXPECT_FALSE((*full)->Write("x\n"));
}

TEST(AuditLog, RecordThenWithoutARunnerWritesAtOnce) {
  RecordingSink sink;
  FixedClock clock = Clock();
  AuditLog log(sink, clock);
  std::optional<Status> outcome;
  log.RecordThen({.action = "vend", .outcome = "ok"}, nullptr, [&](Status s) { outcome = s; });
  ASSERT_TRUE(outcome.has_value());
  EXPECT_TRUE(*outcome);
  EXPECT_EQ(sink.writes.size(), 1u);
}

TEST(AuditLog, RecordThenWritesATurnsLinesTogetherBeforeAnyAnswer) {
  RecordingSink sink;
  FixedClock clock = Clock();
  AuditLog log(sink, clock);
  QueueRunner runner;
  std::vector<std::string> done;
  for (std::string device : {"d1", "d2", "d3"}) {
    log.RecordThen({.action = "vend", .outcome = "ok", .device = device}, &runner,
                   [&done, &sink, device](Status s) {
                     EXPECT_TRUE(s);
                     EXPECT_EQ(sink.writes.size(), 1u);  // written before anyone answers
                     done.push_back(device);
                   });
  }
  EXPECT_TRUE(sink.writes.empty());
  EXPECT_TRUE(done.empty());
  ASSERT_EQ(runner.tasks.size(), 1u);  // one flush for the turn
  runner.RunAll();
  ASSERT_EQ(sink.writes.size(), 1u);
  EXPECT_EQ(std::count(sink.writes[0].begin(), sink.writes[0].end(), '\n'), 3);
  EXPECT_NE(sink.writes[0].find("\"device\":\"d3\""), std::string::npos);
  EXPECT_EQ(done, (std::vector<std::string>{"d1", "d2", "d3"}));

  // The next turn starts a new batch.
  log.RecordThen({.action = "vend", .outcome = "ok"}, &runner, [](Status) {});
  ASSERT_EQ(runner.tasks.size(), 1u);
  runner.RunAll();
  EXPECT_EQ(sink.writes.size(), 2u);
}

TEST(AuditLog, RecordThenFailsEveryLineOfAFailedBatch) {
  RecordingSink sink;
  sink.fail = true;
  FixedClock clock = Clock();
  AuditLog log(sink, clock);
  QueueRunner runner;
  int failed = 0;
  for (int i = 0; i < 2; ++i) {
    log.RecordThen({.action = "vend", .outcome = "ok"}, &runner, [&failed](Status s) {
      ASSERT_FALSE(s);
      EXPECT_THAT(s, ErrorIs(ErrorCode::kUnavailable));
      ++failed;
    });
  }
  runner.RunAll();
  EXPECT_EQ(failed, 2);
}

TEST(AuditLog, RecordThenWritesABigBatchWithoutWaitingForTheTurnToEnd) {
  RecordingSink sink;
  FixedClock clock = Clock();
  AuditLog log(sink, clock);
  QueueRunner runner;
  std::string long_user(1000, 'u');
  int done = 0;
  std::size_t lines = 0;
  while (sink.writes.empty()) {
    log.RecordThen({.action = "vend", .outcome = "ok", .user = long_user}, &runner,
                   [&done](Status) { ++done; });
    ++lines;
    ASSERT_LT(lines, 1000u);
  }
  EXPECT_GE(sink.writes[0].size(), AuditLog::kMaxBatchBytes);
  EXPECT_EQ(done, static_cast<int>(lines));
  runner.RunAll();  // the posted flush finds nothing left
  EXPECT_EQ(sink.writes.size(), 1u);
}

// Runs the one posted task, as one turn of the event loop would.
void RunOneTurn(QueueRunner& runner) {
  EXPECT_EQ(runner.tasks.size(), 1u);
  std::vector<std::function<void()>> turn;
  turn.swap(runner.tasks);
  for (auto& task : turn) {
    task();
  }
}

// A log that records into memory, with a runner whose turns the test runs one by one.
struct TurnByTurn {
  RecordingSink sink;
  FixedClock clock = Clock();
  AuditLog log{sink, clock};
  QueueRunner runner;
  int done = 0;
  void Vend() {
    log.RecordThen({.action = "vend", .outcome = "ok"}, &runner, [this](Status) { ++done; });
  }
};

TEST(AuditLog, RecordThenFlushesOnceATurnAddsNothing) {
  TurnByTurn t;
  auto& [sink, clock, log, runner, done] = t;
  t.Vend();
  RunOneTurn(runner);  // the first turn: the batch may still grow
  EXPECT_TRUE(sink.writes.empty());
  t.Vend();
  EXPECT_EQ(runner.tasks.size(), 1u);  // joined the waiting batch: no second flush posted
  RunOneTurn(runner);                  // it grew: wait one more turn
  EXPECT_TRUE(sink.writes.empty());
  RunOneTurn(runner);  // nothing joined: write and answer
  ASSERT_EQ(sink.writes.size(), 1u);
  EXPECT_EQ(std::count(sink.writes[0].begin(), sink.writes[0].end(), '\n'), 2);
  EXPECT_EQ(done, 2);
  EXPECT_TRUE(runner.tasks.empty());
}

TEST(AuditLog, RecordThenWaitsAtMostMaxTurnsForABusyThread) {
  TurnByTurn t;
  const RecordingSink& sink = t.sink;
  int turns = 0;
  while (sink.writes.empty()) {  // every turn brings another request
    t.Vend();
    RunOneTurn(t.runner);
    ++turns;
    ASSERT_LE(turns, AuditLog::kMaxTurns + 1);
  }
  EXPECT_EQ(turns, AuditLog::kMaxTurns + 1);
  EXPECT_EQ(t.done, turns);
}

}  // namespace
}  // namespace vendo::server
