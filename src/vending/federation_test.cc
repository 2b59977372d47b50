// Federation without HTTP: a token picks its provider by iss and is checked with that
// provider's keys (refetched once for an unknown key id); the identity is made on first sight
// and can be undone; a disabled identity or a claim that could widen the policy gets nothing.
#include "vending/federation.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "issuer/session_name.h"
#include "testing/fake_issuer.h"
#include "testing/fake_net.h"
#include "testing/fake_store.h"
#include "testing/fixed_clock.h"
#include "testing/jwt_signer.h"
#include "vending/grant.h"

namespace vendo::server {
namespace {

using namespace std::chrono;
using testing::JwtSigner;

const system_clock::time_point kNow = system_clock::from_time_t(1795337247);

class FederationTest : public ::testing::Test {
 protected:
  FederationTest() {
    AppConfig c;
    c.name = "photos";
    c.federated = true;
    c.policy = R"({"Resource":"arn:aws:s3:::b/${idp}/${claim:sub}/*"})";
    app_.emplace(App{c, *policy::Template::Parse(c.policy), &issuer_, "", "photos"});
    oidc::ProviderRules rules;
    rules.name = "idp";
    rules.issuer = "https://idp.test";
    rules.audiences = {"client"};
    app_->providers.push_back({rules, &keys_});
  }

  std::string Claims(const std::string& sub, const std::string& more = "") {
    std::int64_t now = system_clock::to_time_t(kNow);
    return R"({"iss":"https://idp.test","aud":"client","sub":")" + sub + R"(","iat":)" +
           std::to_string(now) + R"(,"exp":)" + std::to_string(now + 600) + more + "}";
  }
  void PublishKeys(const JwtSigner& key) {
    transport_.script.emplace_back(
        testing::Reply(200, R"({"issuer":"https://idp.test","jwks_uri":"https://idp.test/jwks"})"));
    transport_.script.emplace_back(testing::Reply(200, R"({"keys":[)" + key.PublicJwk() + "]}"));
  }
  V2Result<oidc::VerifiedToken> Verify(const std::string& token) {
    FederateRequest request{token, "", false};
    std::optional<V2Result<oidc::VerifiedToken>> got;
    federation_.Verify(*app_, request,
                       [&](V2Result<oidc::VerifiedToken> r) { got = std::move(r); });
    EXPECT_TRUE(got.has_value());
    return got.value_or(std::unexpected(V2Failure{V2Code::kInternalError, "no answer"}));
  }

  FixedClock clock_{kNow};
  OsRandom random_;
  testing::FakeStore store_{clock_};
  testing::FakeIssuer issuer_{clock_};
  testing::ScriptedTransport transport_;
  oidc::KeySource keys_{
      transport_, clock_, {.issuer_url = "https://idp.test", .min_refetch = seconds(1)}};
  std::optional<App> app_;
  Federation federation_{store_, clock_, random_};
  JwtSigner first_{JwtSigner::Type::kEc, "k1"};
};

TEST_F(FederationTest, ATokenMakesItsIdentityOnceAndItsGrantIsScopedByItsClaims) {
  PublishKeys(first_);
  auto verified = Verify(first_.Token(Claims("alice")));
  ASSERT_TRUE(verified) << verified.error().message;
  Undo undo;
  auto grant = federation_.Grant(*app_, *verified, &undo);
  ASSERT_TRUE(grant) << grant.error().message;
  EXPECT_TRUE(grant->new_identity);
  EXPECT_EQ(grant->username, "idp:alice");
  EXPECT_NE(grant->request.policy.find("b/idp/alice/*"), std::string::npos)
      << grant->request.policy;
  EXPECT_EQ(grant->request.device_id, grant->user_id);  // the credential cache's principal
  ASSERT_TRUE(undo);
  ASSERT_TRUE(undo());  // an identity whose audit failed is taken back
  EXPECT_FALSE(store_.FindUser("photos", "idp:alice"));

  auto again = federation_.Grant(*app_, *verified, nullptr);
  ASSERT_TRUE(again);
  auto third = federation_.Grant(*app_, *verified, nullptr);
  ASSERT_TRUE(third);
  EXPECT_FALSE(third->new_identity);
  EXPECT_EQ(third->user_id, again->user_id);
}

TEST_F(FederationTest, ADisabledIdentityAndAWideningSubjectGetNothing) {
  PublishKeys(first_);
  auto alice = Verify(first_.Token(Claims("alice")));
  ASSERT_TRUE(alice);
  ASSERT_TRUE(federation_.Grant(*app_, *alice, nullptr));
  ASSERT_TRUE(store_.SetUserEnabled("photos", "idp:alice", false));
  auto disabled = federation_.Grant(*app_, *alice, nullptr);
  ASSERT_FALSE(disabled);
  EXPECT_EQ(disabled.error().code, V2Code::kUserDisabled);

  auto star = Verify(first_.Token(Claims("*")));
  ASSERT_TRUE(star);  // a valid token: its claim is what cannot be used
  auto widened = federation_.Grant(*app_, *star, nullptr);
  ASSERT_FALSE(widened);
  EXPECT_EQ(widened.error().code, V2Code::kInvalidToken);
  EXPECT_EQ(widened.error().reason, "claim_not_usable");
}

TEST_F(FederationTest, ABoundDeviceKeepsOnlyTheClaimsItsScopeNeedsAndStopsWithItsIdentity) {
  IdentityProviderConfig idp;
  idp.name = "idp";
  idp.session_tags = {{"team", "team"}};
  app_->config.identity_providers.push_back(idp);
  PublishKeys(first_);
  auto verified = Verify(first_.Token(Claims("alice", R"(,"team":"blue","name":"Alice Liddell")")));
  ASSERT_TRUE(verified) << verified.error().message;
  auto grant = federation_.Grant(*app_, *verified, nullptr);
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->request.session_tags,
            (std::vector<std::pair<std::string, std::string>>{{"team", "blue"}}));
  Undo unbind;
  auto bound = federation_.BindDevice(*app_, *grant, *verified, &unbind);
  ASSERT_TRUE(bound) << bound.error().message;
  EXPECT_EQ(bound->device_id.substr(0, 2), "d_");
  EXPECT_EQ(bound->device_secret.size(), 43u);  // 32 bytes, base64url

  auto device = store_.FindDevice("photos", bound->device_id);
  ASSERT_TRUE(device);
  EXPECT_EQ(device->user_id, grant->user_id);
  EXPECT_EQ(device->key.Reveal(), bound->device_secret);
  // What the policy and the tags use, and nothing more: no name, no token.
  EXPECT_EQ(device->claims.Reveal(), R"({"idp":"idp","claims":{"sub":"alice","team":"blue"}})");

  // Its later signed requests are scoped as the token was, without the token.
  auto later = GrantFor(*app_, *device, store_, clock_);
  ASSERT_TRUE(later) << later.error().message;
  EXPECT_EQ(later->policy, grant->request.policy);
  EXPECT_EQ(later->session_tags, grant->request.session_tags);
  EXPECT_EQ(later->username, "idp:alice");
  EXPECT_EQ(later->device_id, bound->device_id);

  // A template that comes to need a claim the device never kept: refused, never widened.
  App stricter = *app_;
  stricter.rendered = std::make_shared<PrincipalCache>();
  stricter.policy = *policy::Template::Parse(R"({"Resource":"b/${claim:email}/*"})");
  auto unfit = GrantFor(stricter, *device, store_, clock_);
  ASSERT_FALSE(unfit);
  EXPECT_EQ(unfit.error().reason, ErrorReason::kClaimNotUsable);

  // Disabling the identity stops its bound devices at once.
  ASSERT_TRUE(store_.SetUserEnabled("photos", "idp:alice", false));
  auto disabled = GrantFor(*app_, *device, store_, clock_);
  ASSERT_FALSE(disabled);
  EXPECT_EQ(disabled.error().reason, ErrorReason::kUserDisabled);

  ASSERT_TRUE(unbind());  // a bind whose audit or vend failed is taken back
  EXPECT_FALSE(store_.FindDevice("photos", bound->device_id));
}

TEST_F(FederationTest, TheSessionNameComesFromClaimsAndABoundDeviceKeepsThem) {
  app_->config.session_name = "${idp}.${claim:email}";
  PublishKeys(first_);
  auto verified = Verify(first_.Token(
      Claims("alice", R"(,"email":"alice@example.com","email_verified":true,"team":"x")")));
  ASSERT_TRUE(verified) << verified.error().message;
  auto grant = federation_.Grant(*app_, *verified, nullptr);
  ASSERT_TRUE(grant) << grant.error().message;
  EXPECT_EQ(grant->request.session_name, "idp.alice@example.com");

  auto bound = federation_.BindDevice(*app_, *grant, *verified, nullptr);
  ASSERT_TRUE(bound) << bound.error().message;
  auto device = store_.FindDevice("photos", bound->device_id);
  ASSERT_TRUE(device);
  EXPECT_EQ(device->claims.Reveal(),
            R"({"idp":"idp","claims":{"email":"alice@example.com","sub":"alice"}})");
  auto later = GrantFor(*app_, *device, store_, clock_);
  ASSERT_TRUE(later) << later.error().message;
  EXPECT_EQ(later->session_name, "idp.alice@example.com");

  // A name STS would refuse is made valid, never passed on; a token without the claim gets
  // nothing.
  auto odd = Verify(first_.Token(Claims("bob", R"(,"email":"b o/b*@example.com")")));
  ASSERT_TRUE(odd);
  auto named = federation_.Grant(*app_, *odd, nullptr);
  ASSERT_TRUE(named);
  EXPECT_TRUE(issuer::IsValidSessionName(named->request.session_name, 64))
      << named->request.session_name;
  auto none = Verify(first_.Token(Claims("carol")));
  ASSERT_TRUE(none);
  auto refused = federation_.Grant(*app_, *none, nullptr);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "claim_not_usable");
}

TEST_F(FederationTest, TheFirstMatchingClaimRuleChoosesThePolicyAndTheRole) {
  auto& rules = app_->providers[0].scope_rules;
  rules.push_back({"groups", "admins",
                   *policy::Template::Parse(R"({"Resource":"arn:aws:s3:::b/*"})"),
                   "arn:aws:iam::123456789012:role/admins"});
  rules.push_back({"tier", "gold", std::nullopt, "arn:aws:iam::123456789012:role/gold"});
  rules.push_back({"groups", "staff", std::nullopt, "arn:aws:iam::123456789012:role/staff"});
  PublishKeys(first_);
  auto grant_of = [&](const std::string& sub, const std::string& more) {
    auto verified = Verify(first_.Token(Claims(sub, more)));
    EXPECT_TRUE(verified);
    return federation_.Grant(*app_, *verified, nullptr).value().request;
  };
  auto admin = grant_of("ann", R"(,"groups":["staff","admins"],"tier":"gold")");
  EXPECT_EQ(admin.policy, R"({"Resource":"arn:aws:s3:::b/*"})");  // the first rule that matches
  EXPECT_EQ(admin.role_arn, "arn:aws:iam::123456789012:role/admins");
  auto gold = grant_of("gus", R"(,"groups":["staff"],"tier":"gold")");
  EXPECT_EQ(gold.role_arn, "arn:aws:iam::123456789012:role/gold");
  EXPECT_NE(gold.policy.find("b/idp/gus/*"), std::string::npos);  // no policy: the app's
  auto none = grant_of("nia", R"(,"groups":["Admins","admin"],"tier":"Gold")");
  EXPECT_EQ(none.role_arn, "");  // exact values only: the app's role and policy
  EXPECT_NE(none.policy.find("b/idp/nia/*"), std::string::npos);

  // A bound device keeps the claims its rules look at, and is scoped as its token was.
  auto verified = Verify(first_.Token(Claims("ann", R"(,"groups":["admins"],"name":"Ann")")));
  ASSERT_TRUE(verified);
  auto grant = federation_.Grant(*app_, *verified, nullptr);
  ASSERT_TRUE(grant);
  auto bound = federation_.BindDevice(*app_, *grant, *verified, nullptr);
  ASSERT_TRUE(bound);
  auto device = store_.FindDevice("photos", bound->device_id);
  ASSERT_TRUE(device);
  EXPECT_EQ(device->claims.Reveal(), R"({"idp":"idp","claims":{"sub":"ann","groups":["admins"]}})");
  auto later = GrantFor(*app_, *device, store_, clock_);
  ASSERT_TRUE(later) << later.error().message;
  EXPECT_EQ(later->role_arn, "arn:aws:iam::123456789012:role/admins");
  EXPECT_EQ(later->policy, R"({"Resource":"arn:aws:s3:::b/*"})");
}

TEST_F(FederationTest, AnUnknownKeyIdRefetchesOnceAndAnUnknownIssuerIsRefusedAsSuch) {
  PublishKeys(first_);
  ASSERT_TRUE(Verify(first_.Token(Claims("alice"))));
  JwtSigner next(JwtSigner::Type::kRsa, "k2");
  clock_.Advance(seconds(2));
  PublishKeys(next);
  auto rotated = Verify(next.Token(Claims("bob")));
  ASSERT_TRUE(rotated) << rotated.error().message;
  EXPECT_EQ(rotated->subject, "bob");
  EXPECT_EQ(transport_.calls.size(), 4u);

  std::int64_t now = system_clock::to_time_t(kNow);
  auto other =
      Verify(next.Token(R"({"iss":"https://other.test","aud":"client","sub":"x","iat":)" +
                        std::to_string(now) + R"(,"exp":)" + std::to_string(now + 60) + "}"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, V2Code::kInvalidToken);
  EXPECT_EQ(other.error().reason, "wrong_issuer");
}

}  // namespace
}  // namespace vendo::server
