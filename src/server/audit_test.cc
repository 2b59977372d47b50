#include "server/audit.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "testing/temp_dir.h"

namespace vendo::server {
namespace {

class FailingSink final : public AuditSink {
 public:
  Status Write(std::string_view) override { return Fail(ErrorCode::kUnavailable, "disk full"); }
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
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
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

TEST(PolicyHash, IsSha256Hex) {
  EXPECT_EQ(PolicyHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace vendo::server
