#include "sts/sts_xml.h"

#include <gtest/gtest.h>

namespace vendo::sts {
namespace {

using namespace std::chrono;

constexpr std::string_view kAwsFederation =
    R"(<GetFederationTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetFederationTokenResult>
    <Credentials>
      <SessionToken>FQoGZXIvYXdzEXAMPLETOKEN</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <Expiration>2026-11-25T12:00:00Z</Expiration>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
    <FederatedUser><Arn>arn:aws:sts::123456789012:federated-user/alice</Arn></FederatedUser>
    <PackedPolicySize>6</PackedPolicySize>
  </GetFederationTokenResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</GetFederationTokenResponse>)";

// RGW: no namespace, no ResponseMetadata, nanoseconds, shorter keys.
constexpr std::string_view kRgwAssumeRole = R"(<AssumeRoleResponse><AssumeRoleResult>
<AssumedRoleUser><Arn>arn:aws:sts:::assumed-role/tvm-role/alice</Arn></AssumedRoleUser>
<Credentials><AccessKeyId>ABCDEFGHIJKLMNOPQRS</AccessKeyId><Expiration>2026-11-24T04:20:51.787019207Z</Expiration>
<SecretAccessKey>abcdefghijklmnopqrstuvwxyz0123456789abc</SecretAccessKey><SessionToken>tok</SessionToken>
</Credentials></AssumeRoleResult></AssumeRoleResponse>)";

TEST(StsXml, ParsesAwsCredentials) {
  auto c = ParseCredentialsResponse(kAwsFederation);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(c->credentials.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  EXPECT_EQ(c->credentials.session_token, "FQoGZXIvYXdzEXAMPLETOKEN");
  EXPECT_EQ(c->credentials.expiration, sys_days(year(2026) / 11 / 25) + hours(12));
  EXPECT_EQ(c->packed_policy_percent, 6);
}

TEST(StsXml, ParsesRgwCredentialsWithNanoseconds) {
  auto c = ParseCredentialsResponse(kRgwAssumeRole);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->credentials.access_key_id.size(), 19u);
  EXPECT_EQ(duration_cast<nanoseconds>(c->credentials.expiration.time_since_epoch()).count() %
                1'000'000'000,
            787019207);
  EXPECT_FALSE(c->packed_policy_percent);  // RGW does not say
}

TEST(StsXml, RejectsIncompleteOrUnreadableSuccessBodies) {
  EXPECT_FALSE(ParseCredentialsResponse("not xml at all <").has_value());
  EXPECT_FALSE(ParseCredentialsResponse("<AssumeRoleResponse/>").has_value());
  EXPECT_FALSE(
      ParseCredentialsResponse(
          "<r><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
          "<SessionToken>T</SessionToken><Expiration>tomorrow</Expiration></Credentials></r>")
          .has_value());
}

TEST(StsXml, ClassifiesErrors) {
  auto throttled =
      ParseErrorResponse(400, R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
    <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
    <RequestId>req-1</RequestId></ErrorResponse>)");
  EXPECT_EQ(throttled.code, "Throttling");
  EXPECT_EQ(throttled.request_id, "req-1");
  EXPECT_TRUE(throttled.throttled);
  EXPECT_TRUE(throttled.retryable);

  auto denied = ParseErrorResponse(403, R"(<ErrorResponse><Error><Code>AccessDenied</Code>
    <Message>not authorized</Message></Error><RequestId>req-2</RequestId></ErrorResponse>)");
  EXPECT_EQ(denied.code, "AccessDenied");
  EXPECT_FALSE(denied.retryable);

  auto rgw = ParseErrorResponse(400,
                                "<Error><Code>MalformedPolicyDocument</Code>"
                                "<Message>failed to parse policy</Message></Error>");
  EXPECT_EQ(rgw.code, "MalformedPolicyDocument");
  EXPECT_FALSE(rgw.retryable);

  auto gateway = ParseErrorResponse(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(gateway.code, "");
  EXPECT_TRUE(gateway.retryable);
  EXPECT_FALSE(gateway.throttled);
  EXPECT_TRUE(ParseErrorResponse(429, "").throttled);
}

TEST(StsXml, Timestamps) {
  EXPECT_TRUE(ParseIsoTimestamp("2026-11-24T04:20:51Z").has_value());
  EXPECT_TRUE(ParseIsoTimestamp("2026-11-24T04:20:51.5Z").has_value());
  EXPECT_EQ(*ParseIsoTimestamp("1970-01-01T00:00:01.250Z"),
            system_clock::time_point(milliseconds(1250)));
  for (std::string_view bad :
       {"", "2026-11-24 04:20:51Z", "2026-11-24T04:20:51", "2026-02-30T00:00:00Z",
        "2026-11-24T04:20:51.Z", "2026-11-24T04:20:51.1234567890Z"}) {
    EXPECT_FALSE(ParseIsoTimestamp(bad).has_value()) << bad;
  }
}

TEST(StsForms, GetFederationToken) {
  EXPECT_EQ(GetFederationTokenForm("alice", R"({"Version":"2012-10-17"})", seconds(3600)),
            "Action=GetFederationToken&Version=2011-06-15&Name=alice&DurationSeconds=3600&"
            "Policy=%7B%22Version%22%3A%222012-10-17%22%7D");
}

TEST(StsForms, AssumeRoleWithTagsSourceIdentityAndExternalId) {
  std::string form =
      AssumeRoleForm("arn:aws:iam::123456789012:role/tvm", "alice", "", seconds(900),
                     {{"vendo:app", "photos"}, {"vendo:user", "a b"}}, "alice", "ext-1");
  EXPECT_EQ(form,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole"
            "%2Ftvm&RoleSessionName=alice&DurationSeconds=900&Tags.member.1.Key=vendo%3Aapp&"
            "Tags.member.1.Value=photos&Tags.member.2.Key=vendo%3Auser&Tags.member.2.Value=a%20b&"
            "SourceIdentity=alice&ExternalId=ext-1");
}

TEST(AppendFormParam, WritesSpacesEitherWay) {
  std::string a, b;
  AppendFormParam(a, "Template Body", "a b+c*");
  AppendFormParam(b, "Template Body", "a b+c*", FormSpace::kPlus);
  EXPECT_EQ(a, "Template%20Body=a%20b%2Bc%2A");
  EXPECT_EQ(b, "Template%20Body=a+b%2Bc%2A");
}

}  // namespace
}  // namespace vendo::sts
