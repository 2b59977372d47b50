#include "sts/sts_client.h"

#include <gtest/gtest.h>

#include <deque>

#include "testing/error_is.h"
#include "testing/fake_net.h"
#include "testing/fixed_clock.h"

using ::testing::Optional;
using vendo::testing::ErrorIs;

namespace vendo::sts {
namespace {

using namespace std::chrono;

constexpr std::string_view kOk = R"(<AssumeRoleResponse><AssumeRoleResult><Credentials>
<AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>
<SessionToken>token</SessionToken><Expiration>2026-11-25T00:00:00Z</Expiration>
</Credentials></AssumeRoleResult></AssumeRoleResponse>)";

using testing::Reply;

HttpReply Throttled() {
  return Reply(400,
               "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded"
               "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>");
}

class StsClientTest : public ::testing::Test {
 protected:
  std::optional<Result<IssuedCredentials>> Run(
      const StsEndpoint& ep = RegionalEndpoint("eu-west-1")) {
    std::optional<Result<IssuedCredentials>> got;
    client_.GetFederationToken(ep, caller_, "alice", R"({"Version":"2012-10-17"})", hours(1),
                               [&](Result<IssuedCredentials> c) { got = std::move(c); });
    return got;
  }

  FixedClock clock_{system_clock::time_point(sys_days(year(2026) / 11 / 24))};
  OsRandom random_;
  testing::ScriptedTransport transport_;
  testing::InstantScheduler scheduler_{clock_};
  SigningCredentials caller_{"AKIDEXAMPLE", SecretString("secret-key"), ""};
  StsClient client_{transport_, scheduler_, clock_, random_, RetryPolicy{}};
};

TEST_F(StsClientTest, SignsAPostToTheRegionalEndpoint) {
  transport_.script.emplace_back(Reply(200, kOk));
  auto got = Run();
  ASSERT_TRUE(got.has_value() && got->has_value()) << (got ? got->error().message : "no answer");
  EXPECT_EQ((*got)->credentials.access_key_id, "ASIAEXAMPLE");
  ASSERT_EQ(transport_.calls.size(), 1u);
  const HttpCall& call = transport_.calls[0];
  EXPECT_EQ(call.host, "sts.eu-west-1.amazonaws.com");
  EXPECT_TRUE(call.tls);
  EXPECT_TRUE(call.body.starts_with("Action=GetFederationToken&Version=2011-06-15&Name=alice"));
  std::string auth;
  for (const auto& [k, v] : call.headers) {
    if (k == "Authorization") {
      auth = v;
    }
  }
  EXPECT_TRUE(auth.starts_with(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/eu-west-1/sts/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date"))
      << auth;
}

TEST_F(StsClientTest, RetriesThrottlingWithCappedJitteredBackoff) {
  transport_.script = {Throttled(), Reply(503, "busy"), Throttled(), Reply(200, kOk)};
  auto got = Run();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(transport_.calls.size(), 4u);
  ASSERT_EQ(scheduler_.delays.size(), 3u);
  EXPECT_LE(scheduler_.delays[0], milliseconds(100));
  EXPECT_LE(scheduler_.delays[1], milliseconds(200));
  EXPECT_LE(scheduler_.delays[2], milliseconds(400));
  StsClientStats stats = client_.Stats();
  EXPECT_EQ(stats.attempts, 4u);
  EXPECT_EQ(stats.retries, 3u);
  EXPECT_EQ(stats.throttled, 2u);
  EXPECT_EQ(stats.failures, 0u);
}

TEST_F(StsClientTest, NeverRetriesClientErrors) {
  transport_.script = {Reply(403,
                             "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no"
                             "</Message></Error><RequestId>r-9</RequestId></ErrorResponse>")};
  auto got = Run();
  ASSERT_TRUE(got && !*got);
  EXPECT_EQ(transport_.calls.size(), 1u);
  EXPECT_EQ(client_.Stats().failures, 1u);
  EXPECT_THAT((*got), ErrorIs(ErrorCode::kPermissionDenied));
  EXPECT_NE((*got).error().message.find("AccessDenied"), std::string::npos);
  EXPECT_NE((*got).error().message.find("r-9"), std::string::npos);
}

TEST_F(StsClientTest, GivesUpAfterMaxAttemptsOrTheDeadline) {
  auto got = Run();  // the transport fails every time
  ASSERT_TRUE(got && !*got);
  EXPECT_THAT((*got), ErrorIs(ErrorCode::kUnavailable));
  EXPECT_EQ(transport_.calls.size(), 4u);

  RetryPolicy tight;
  tight.max_attempts = 100;
  tight.base_delay = milliseconds(1000);
  tight.max_delay = milliseconds(1000);
  tight.deadline = milliseconds(2500);
  StsClient client(transport_, scheduler_, clock_, random_, tight);
  transport_.calls.clear();
  auto start = clock_.Now();
  std::optional<Result<IssuedCredentials>> late;
  client.GetFederationToken(RegionalEndpoint("us-east-1"), caller_, "bob", "", hours(1),
                            [&](Result<IssuedCredentials> c) { late = std::move(c); });
  ASSERT_TRUE(late && !*late);
  EXPECT_LT(clock_.Now() - start, milliseconds(2500));
  EXPECT_LT(transport_.calls.size(), 100u);
}

TEST_F(StsClientTest, CustomEndpointsKeepTheirPortInTheSignedHost) {
  transport_.script.emplace_back(Reply(200, kOk));
  StsEndpoint rgw{"127.0.0.1", 8000, false, "default"};
  auto got = Run(rgw);
  ASSERT_TRUE(got && *got);
  bool found = false;
  for (const auto& [k, v] : transport_.calls[0].headers) {
    found = found || (k == "Host" && v == "127.0.0.1:8000");
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(transport_.calls[0].tls);
}

TEST_F(StsClientTest, ASharedRetryBudgetStopsRetriesWhileStsKeepsFailing) {
  // 100 calls while STS answers 500 every time: at first each call retries (budget full),
  // then the budget is spent and each call makes one attempt.
  for (int i = 0; i < 100; ++i) {
    transport_.calls.clear();
    for (int j = 0; j < 4; ++j) {
      transport_.script.emplace_back(Reply(500, ""));
    }
    auto got = Run();
    ASSERT_TRUE(got && !*got);
    transport_.script.clear();
  }
  StsClientStats stats = client_.Stats();
  EXPECT_LT(stats.attempts, 110u) << "about one attempt per call, not four";
  EXPECT_GT(stats.not_retried, 90u);
  EXPECT_EQ(stats.failures, 100u);
  // STS is back: successes refill the budget a tenth of a token each.
  for (int i = 0; i < 70; ++i) {
    transport_.script.emplace_back(Reply(200, kOk));
    ASSERT_TRUE(Run()->has_value());
  }
  transport_.script = {Reply(503, "busy"), Reply(200, kOk)};
  transport_.calls.clear();
  EXPECT_TRUE(Run()->has_value());  // retried again
  EXPECT_EQ(transport_.calls.size(), 2u);
}

TEST_F(StsClientTest, ThrottlingHoldsNewCallsForABackoff) {
  RetryPolicy once;
  once.max_attempts = 1;
  StsClient client(transport_, scheduler_, clock_, random_, once);
  auto run = [&] {
    std::optional<Result<IssuedCredentials>> got;
    client.GetFederationToken(RegionalEndpoint("eu-west-1"), caller_, "alice", "", hours(1),
                              [&](Result<IssuedCredentials> c) { got = std::move(c); });
    return got;
  };
  transport_.script = {Throttled()};
  ASSERT_THAT(run(), Optional(ErrorIs(ErrorCode::kResourceExhausted)));
  EXPECT_EQ(transport_.calls.size(), 1u);
  for (int i = 0; i < 20; ++i) {  // within the 100 ms hold: nothing is sent
    ASSERT_THAT(run(), Optional(ErrorIs(ErrorCode::kResourceExhausted)));
  }
  EXPECT_EQ(transport_.calls.size(), 1u);
  EXPECT_EQ(client.Stats().held, 20u);
  clock_.Advance(milliseconds(100));
  transport_.script = {Throttled()};
  ASSERT_FALSE(*run());
  EXPECT_EQ(transport_.calls.size(), 2u);
  clock_.Advance(milliseconds(100));  // a second throttle in a row doubled the hold
  ASSERT_FALSE(*run());
  EXPECT_EQ(transport_.calls.size(), 2u);
  clock_.Advance(milliseconds(100));
  transport_.script = {Reply(200, kOk)};
  EXPECT_TRUE(run()->has_value());
}

TEST_F(StsClientTest, AnUnparseableAnswerCountsAsAFailure) {
  transport_.script = {Reply(200, "<html>a captive portal</html>")};
  auto got = Run();
  ASSERT_TRUE(got && !*got);
  EXPECT_EQ(client_.Stats().failures, 1u);
}

TEST_F(StsClientTest, AnAttemptIsChargedTheExchangeNotTheWaitForAConnection) {
  RetryPolicy p;
  p.attempt_timeout = milliseconds(8000);
  p.deadline = milliseconds(15000);
  StsClient client(transport_, scheduler_, clock_, random_, p);
  transport_.script = {Reply(200, kOk)};
  client.GetFederationToken(RegionalEndpoint("eu-west-1"), caller_, "alice", "", hours(1),
                            [](Result<IssuedCredentials>) {});
  ASSERT_EQ(transport_.calls.size(), 1u);
  EXPECT_EQ(transport_.calls[0].timeout, milliseconds(8000));
  EXPECT_EQ(transport_.calls[0].overall_timeout, milliseconds(15000));
}

TEST(StsErrors, MapToVendoCodes) {
  EXPECT_EQ(
      StsClient::ToError(ParseErrorResponse(400, "<Error><Code>Throttling</Code></Error>")).code,
      ErrorCode::kResourceExhausted);
  EXPECT_EQ(StsClient::ToError(ParseErrorResponse(500, "")).code, ErrorCode::kUnavailable);
  EXPECT_EQ(StsClient::ToError(ParseErrorResponse(400,
                                                  "<Error><Code>MalformedPolicyDocument"
                                                  "</Code></Error>"))
                .code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace vendo::sts
