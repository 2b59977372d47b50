#include "issuer/sts_issuer.h"

#include <gtest/gtest.h>

#include <map>

#include "common/encoding.h"
#include "testing/error_is.h"
#include "testing/fake_net.h"
#include "testing/fixed_clock.h"

using vendo::testing::ErrorIs;

namespace vendo::issuer {
namespace {

using namespace std::chrono;

constexpr std::string_view kFederationOk =
    R"(<GetFederationTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetFederationTokenResult><Credentials><AccessKeyId>ASIAFED</AccessKeyId>
<SecretAccessKey>fedsecret</SecretAccessKey><SessionToken>fedtoken</SessionToken>
<Expiration>2026-11-24T13:00:00Z</Expiration></Credentials></GetFederationTokenResult>
<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetFederationTokenResponse>)";

constexpr std::string_view kAssumeOk = R"(<AssumeRoleResponse><AssumeRoleResult><Credentials>
<AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>rolesecret</SecretAccessKey>
<SessionToken>roletoken</SessionToken><Expiration>2026-11-24T13:00:00Z</Expiration>
</Credentials></AssumeRoleResult></AssumeRoleResponse>)";

std::map<std::string, std::string> Form(const std::string& body) {
  auto pairs = DecodeQueryPairs(body, true, 100);
  EXPECT_TRUE(pairs.has_value());
  std::map<std::string, std::string> out;
  for (auto& [k, v] : pairs.value_or(decltype(pairs)::value_type{})) {
    out[k] = v;
  }
  return out;
}

// Fails every fetch, as a chain that found nothing does.
class NoCredentials final : public sts::CredentialProvider {
 public:
  void Fetch(sts::CallerCallback done) override {
    done(Fail(ErrorCode::kUnavailable, "no AWS credentials found"));
  }
};

class StsIssuerTest : public ::testing::Test {
 protected:
  StsIssuer Make(StsIssuerOptions::Action action, sts::CredentialProvider* provider = nullptr) {
    StsIssuerOptions o;
    o.action = action;
    o.endpoint = sts::StsEndpoint{"127.0.0.1", 5000, false, "us-east-1"};
    o.role_arn = "arn:aws:iam::123456789012:role/devices";
    o.external_id = "ext-1";
    o.source_identity = "${username}";
    return StsIssuer(client_, provider != nullptr ? *provider : caller_, clock_, o);
  }
  Result<Credentials> IssueNow(StsIssuer& issuer, IssueRequest request) {
    std::optional<Result<Credentials>> got;
    issuer.Issue(std::move(request), [&got](Result<Credentials> c) { got = std::move(c); });
    EXPECT_TRUE(got.has_value());
    return got.value_or(Fail(ErrorCode::kInternal, "no answer"));
  }
  IssueRequest Request() {
    IssueRequest r;
    r.app = "photos";
    r.device_id = "device-1";
    r.username = "alice";
    r.session_name = "alice";
    r.policy = R"({"Version":"2012-10-17"})";
    r.duration = seconds(3600);
    return r;
  }

  FixedClock clock_{system_clock::time_point(sys_days(year(2026) / 11 / 24))};
  OsRandom random_;
  testing::ScriptedTransport transport_;
  testing::InstantScheduler scheduler_{clock_};
  sts::StsClient client_{transport_, scheduler_, clock_, random_, sts::RetryPolicy{}};
  sts::StaticProvider caller_{
      sts::CallerCredentials{{"AKIDCALLER", SecretString("callersecret"), ""}, {}, "config"}};
};

TEST_F(StsIssuerTest, FederationSendsNamePolicyAndDuration) {
  transport_.script.emplace_back(testing::Reply(200, kFederationOk));
  StsIssuer issuer = Make(StsIssuerOptions::Action::kGetFederationToken);
  EXPECT_EQ(issuer.Kind(), "aws-federation");
  EXPECT_EQ(issuer.MaxSessionNameLength(), 32u);
  EXPECT_FALSE(issuer.BindsDevice());
  auto creds = IssueNow(issuer, Request());
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAFED");
  ASSERT_EQ(transport_.calls.size(), 1u);
  auto form = Form(transport_.calls[0].body);
  EXPECT_EQ(form["Action"], "GetFederationToken");
  EXPECT_EQ(form["Name"], "alice");
  EXPECT_EQ(form["Policy"], R"({"Version":"2012-10-17"})");
  EXPECT_EQ(form["DurationSeconds"], "3600");
  EXPECT_EQ(form.count("Tags.member.1.Key"), 0u);
}

TEST_F(StsIssuerTest, AssumeRoleSendsTagsSourceIdentityAndExternalId) {
  transport_.script.emplace_back(testing::Reply(200, kAssumeOk));
  StsIssuer issuer = Make(StsIssuerOptions::Action::kAssumeRole);
  EXPECT_EQ(issuer.MaxSessionNameLength(), 64u);
  EXPECT_TRUE(issuer.BindsDevice());
  auto creds = IssueNow(issuer, Request());
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAROLE");
  auto form = Form(transport_.calls[0].body);
  EXPECT_EQ(form["Action"], "AssumeRole");
  EXPECT_EQ(form["RoleArn"], "arn:aws:iam::123456789012:role/devices");
  EXPECT_EQ(form["RoleSessionName"], "alice");
  EXPECT_EQ(form["ExternalId"], "ext-1");
  EXPECT_EQ(form["SourceIdentity"], "alice");
  EXPECT_EQ(form["Tags.member.1.Key"], "vendo:app");
  EXPECT_EQ(form["Tags.member.1.Value"], "photos");
  EXPECT_EQ(form["Tags.member.2.Key"], "vendo:device");
  EXPECT_EQ(form["Tags.member.2.Value"], "device-1");
  EXPECT_EQ(form["Tags.member.3.Key"], "vendo:user");
  EXPECT_EQ(form["Tags.member.3.Value"], "alice");
}

TEST_F(StsIssuerTest, APolicyNearStssPackedLimitIsLoggedWithItsShare) {
  std::string near(kAssumeOk);
  near.replace(near.find("</AssumeRoleResult>"), 0, "<PackedPolicySize>93</PackedPolicySize>");
  transport_.script.emplace_back(testing::Reply(200, near));
  transport_.script.emplace_back(testing::Reply(200, kAssumeOk));
  StsIssuer issuer = Make(StsIssuerOptions::Action::kAssumeRole);
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(IssueNow(issuer, Request()));
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find(R"("msg":"session policy and tags near STS's packed size limit")"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(R"("packed_policy_percent":93)"), std::string::npos) << log;
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(IssueNow(issuer, Request()));  // no share given: nothing to say
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find("packed"), std::string::npos) << log;
}

TEST_F(StsIssuerTest, ARequestsOwnRoleReplacesTheIssuers) {
  StsIssuer issuer = Make(StsIssuerOptions::Action::kAssumeRole);
  IssueRequest r = Request();
  r.role_arn = "arn:aws:iam::123456789012:role/admins";
  auto body = issuer.AssumeRoleBody(r);
  ASSERT_TRUE(body);
  EXPECT_EQ(Form(*body)["RoleArn"], "arn:aws:iam::123456789012:role/admins");
}

TEST_F(StsIssuerTest, AnonymousDevicesHaveNoUserTag) {
  StsIssuer issuer = Make(StsIssuerOptions::Action::kAssumeRole);
  IssueRequest r = Request();
  r.username.reset();
  auto body = issuer.AssumeRoleBody(r);
  ASSERT_TRUE(body);
  auto form = Form(*body);
  EXPECT_EQ(form.count("Tags.member.3.Key"), 0u);
  EXPECT_EQ(form.count("SourceIdentity"), 0u) << "an empty SourceIdentity is not sent";
}

TEST_F(StsIssuerTest, NoCallerCredentialsIsAClearErrorAndNoStsCall) {
  NoCredentials none;
  StsIssuer issuer = Make(StsIssuerOptions::Action::kAssumeRole, &none);
  auto creds = IssueNow(issuer, Request());
  ASSERT_FALSE(creds);
  EXPECT_THAT(creds, ErrorIs(ErrorCode::kUnavailable));
  EXPECT_NE(creds.error().message.find("no AWS credentials"), std::string::npos);
  EXPECT_TRUE(transport_.calls.empty());
}

TEST_F(StsIssuerTest, AnStsRefusalIsNotRetried) {
  transport_.script.emplace_back(testing::Reply(
      403,
      "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>bad</Message>"
      "</Error><RequestId>r-9</RequestId></ErrorResponse>"));
  StsIssuer issuer = Make(StsIssuerOptions::Action::kAssumeRole);
  auto creds = IssueNow(issuer, Request());
  ASSERT_FALSE(creds);
  EXPECT_THAT(creds, ErrorIs(ErrorCode::kPermissionDenied));
  EXPECT_NE(creds.error().message.find("r-9"), std::string::npos);
  EXPECT_EQ(transport_.calls.size(), 1u);
}

TEST(TagValue, KeepsWhatStsAllowsAndRefusesTheRest) {
  EXPECT_EQ(TagValue("alice@example.com"), "alice@example.com");
  EXPECT_EQ(TagValue("J\xc3\xbcrgen"), "J\xc3\xbcrgen");  // letters of any script
  // Rewriting would let "a#b" and "a_b" share a tag value.
  EXPECT_EQ(TagValue("a#b$c<d>"), std::nullopt);
  EXPECT_EQ(TagValue("a*"), std::nullopt);
  EXPECT_EQ(TagValue(std::string(256, 'x')), std::string(256, 'x'));
  EXPECT_EQ(TagValue(std::string(257, 'x')), std::nullopt);
}

}  // namespace
}  // namespace vendo::issuer
