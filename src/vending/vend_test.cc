// The token vend, step by step: what `done` gets and what the audit log says, for a success
// and for a failure at each step, with a fake issuer and a recording audit sink.
#include "vending/vend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "metrics/metrics.h"
#include "store/sqlite_store.h"
#include "testing/fake_issuer.h"
#include "testing/fixed_clock.h"
#include "testing/recording_audit_sink.h"
#include "testing/temp_dir.h"

namespace vendo::server {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono;

class VendTest : public ::testing::Test {
 protected:
  VendTest() {
    AppConfig c;
    c.name = "sensors";
    c.policy = R"({"Statement":[]})";
    c.limits.tokens_per_device_per_minute = 2;
    app_.emplace(App{c, *policy::Template::Parse(c.policy), &issuer_, "", "sensors"});
  }

  issuer::IssueRequest Request(std::string device = "dev-1") {
    issuer::IssueRequest r;
    r.app = "sensors";
    r.device_id = std::move(device);
    r.username = "ann";
    r.policy_sha256 = "abc123";
    r.duration = seconds(900);
    return r;
  }

  // Runs a vend; the issuer answers with credentials unless `issuer_fails`.
  std::optional<VendResult> RunVend(Sealer seal, bool issuer_fails = false) {
    std::optional<VendResult> got;
    vend_.Run(*app_, {"req-1", "192.0.2.7"}, Request(), std::move(seal),
              [&](VendResult r) { got = std::move(r); });
    issuer_.CompleteAll(issuer_fails);
    return got;
  }

  static Sealer Plain() {
    return [](const Credentials& c) -> Result<std::string> { return "sealed:" + c.access_key_id; };
  }

  std::string LastLine() { return sink_.writes.empty() ? "" : sink_.writes.back(); }

  testing::TempDir dir_;
  FixedClock clock_{system_clock::time_point{} + hours(24 * 365 * 50)};
  OsRandom random_;
  crypto::SecretBox box_{SecretString(std::string(32, 'k')), random_};
  std::unique_ptr<store::SqliteStore> store_ =
      std::move(*store::SqliteStore::Open({dir_.File("db"), 16}, box_, clock_));
  testing::FakeIssuer issuer_{clock_};
  std::optional<App> app_;
  testing::RecordingAuditSink sink_;
  AuditLog log_{sink_, clock_};
  metrics::NullRecorder recorder_;
  AuditTrail trail_{log_, recorder_};
  Limiter limiter_{*store_, clock_};
  Vend vend_{limiter_, trail_};
};

TEST_F(VendTest, ASuccessIsSealedAuditedAndThenAnswered) {
  auto got = RunVend(Plain());
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, "sealed:AKID1");
  ASSERT_EQ(sink_.writes.size(), 1u);
  for (std::string_view field :
       {R"("audit":"vend")", R"("outcome":"ok")", R"("app":"sensors")", R"("device":"dev-1")",
        R"("user":"ann")", R"("issuer":"fake")", R"("policy_sha256":"abc123")",
        R"("duration_s":900)", R"("request_id":"req-1")", R"("client":"192.0.2.7")"}) {
    EXPECT_THAT(LastLine(), HasSubstr(field));
  }
  EXPECT_EQ(issuer_.request(0).device_id, "dev-1");
}

TEST_F(VendTest, OverTheDevicesLimitIsRefusedBeforeTheIssuerWithARetryAfter) {
  ASSERT_TRUE(RunVend(Plain())->has_value());
  ASSERT_TRUE(RunVend(Plain())->has_value());
  auto third = RunVend(Plain());
  ASSERT_TRUE(third.has_value());
  ASSERT_FALSE(third->has_value());
  EXPECT_EQ(third->error().step, VendStep::kLimit);
  EXPECT_EQ(third->error().error.code, ErrorCode::kResourceExhausted);
  EXPECT_GE(third->error().error.retry_after, seconds(1));
  EXPECT_LE(third->error().error.retry_after, seconds(60));
  EXPECT_EQ(issuer_.calls(), 2u);
  EXPECT_THAT(LastLine(), HasSubstr(R"("outcome":"resource_exhausted")"));
}

TEST_F(VendTest, AnIssuerFailureIsAuditedAndReported) {
  auto got = RunVend(Plain(), /*issuer_fails=*/true);
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error().step, VendStep::kIssue);
  EXPECT_EQ(got->error().error.code, ErrorCode::kUnavailable);
  EXPECT_THAT(LastLine(), HasSubstr(R"("outcome":"unavailable")"));
}

TEST_F(VendTest, CredentialsThatCannotBeSealedAreNoVend) {
  auto got = RunVend([](const Credentials&) -> Result<std::string> {
    return Fail(ErrorCode::kInternal, "no key");
  });
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error().step, VendStep::kSeal);
  EXPECT_THAT(LastLine(), HasSubstr(R"("outcome":"internal")"));
  EXPECT_THAT(LastLine(), Not(HasSubstr(R"("outcome":"ok")")));
}

TEST_F(VendTest, NoCredentialsGoOutWhenTheAuditLineCannotBeWritten) {
  sink_.fail = true;
  auto got = RunVend(Plain());
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error().step, VendStep::kAudit);
  EXPECT_EQ(issuer_.calls(), 1u);
}

TEST_F(VendTest, ARefusalBeforeTheGrantIsAudited) {
  vend_.Refused(*app_, {"req-9", "192.0.2.8"}, "unauthenticated", "who-knows");
  EXPECT_THAT(LastLine(), HasSubstr(R"("outcome":"unauthenticated")"));
  EXPECT_THAT(LastLine(), HasSubstr(R"("device":"who-knows")"));
  EXPECT_EQ(issuer_.calls(), 0u);
}

}  // namespace
}  // namespace vendo::server
