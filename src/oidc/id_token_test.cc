// ID token checks, with keys and tokens a test signer makes with OpenSSL alone: every bad
// token is refused with its own reason, and the good ones of each key type pass.
#include "oidc/id_token.h"

#include <gtest/gtest.h>

#include "testing/jwt_signer.h"

namespace vendo::oidc {
namespace {

using namespace std::chrono;
using testing::JwtSigner;

const system_clock::time_point kNow = system_clock::from_time_t(1795337247);
constexpr std::string_view kIssuer = "https://idp.test";

std::string Claims(std::int64_t iat_offset = 0, std::int64_t exp_offset = 600,
                   const std::string& extra = "", const std::string& aud = R"("client-1")",
                   const std::string& iss = std::string(kIssuer)) {
  std::int64_t now = system_clock::to_time_t(kNow);
  return R"({"iss":")" + iss + R"(","sub":"alice","aud":)" + aud + R"(,"iat":)" +
         std::to_string(now + iat_offset) + R"(,"exp":)" + std::to_string(now + exp_offset) +
         extra + "}";
}

class IdTokenTest : public ::testing::Test {
 protected:
  IdTokenTest() {
    rules_.name = "test-idp";
    rules_.issuer = std::string(kIssuer);
    rules_.audiences = {"client-1", "client-2"};
    Reload();
  }
  void Reload() {
    std::string jwks =
        R"({"keys":[)" + rsa_.PublicJwk() + "," + ec_.PublicJwk() + "," + ed_.PublicJwk() + "]}";
    auto set = JwkSet::Parse(jwks);
    ASSERT_TRUE(set) << set.error().message;
    keys_.emplace(std::move(*set));
  }
  TokenResult<VerifiedToken> Check(const std::string& token, std::string_view nonce = "") {
    return VerifyIdToken(token, nonce, rules_, *keys_, kNow);
  }
  void ExpectRefused(const std::string& token, TokenReason reason, std::string_view nonce = "") {
    auto r = Check(token, nonce);
    ASSERT_FALSE(r) << "accepted: " << token;
    EXPECT_EQ(TokenReasonName(r.error().reason), TokenReasonName(reason)) << r.error().detail;
  }

  JwtSigner rsa_{JwtSigner::Type::kRsa, "rsa-1"};
  JwtSigner ec_{JwtSigner::Type::kEc, "ec-1"};
  JwtSigner ed_{JwtSigner::Type::kEd25519, "ed-1"};
  ProviderRules rules_;
  std::optional<JwkSet> keys_;
};

TEST_F(IdTokenTest, GoodTokensOfEachKeyTypePassWithTheirClaims) {
  for (const JwtSigner* signer : {&rsa_, &ec_, &ed_}) {
    auto r = Check(signer->Token(Claims(
        0, 600, R"(,"email":"a@example.com","n":7,"groups":["staff","admins"],"mixed":["a",1])")));
    ASSERT_TRUE(r) << signer->alg() << ": " << TokenReasonName(r.error().reason) << " "
                   << r.error().detail;
    EXPECT_EQ(r->subject, "alice");
    EXPECT_EQ(r->idp, "test-idp");
    EXPECT_EQ(r->Claim("email"), "a@example.com");
    EXPECT_EQ(r->Claim("n"), "7");
    // Arrays of strings are kept as lists (for claim rules); any other array is not.
    ASSERT_EQ(r->lists.size(), 1u);
    EXPECT_EQ(r->lists[0].first, "groups");
    EXPECT_EQ(r->lists[0].second, (std::vector<std::string>{"staff", "admins"}));
    EXPECT_FALSE(r->Claim("groups"));
    EXPECT_EQ(r->expires_at, kNow + seconds(600));
  }
  auto pss = Check(rsa_.Sign(rsa_.Header("PS256"), Claims(), "PS256"));
  EXPECT_TRUE(pss) << pss.error().detail;
}

TEST_F(IdTokenTest, AlgorithmsOffTheListNoneAndHmacAreRefused) {
  ExpectRefused(rsa_.Sign(rsa_.Header("none"), Claims(), "none"),
                TokenReason::kAlgorithmNotAllowed);
  ExpectRefused(rsa_.Sign(rsa_.Header("HS256"), Claims(), "HS256"),
                TokenReason::kAlgorithmNotAllowed);
  rules_.algorithms = {Algorithm::kES256};
  ExpectRefused(rsa_.Token(Claims()), TokenReason::kAlgorithmNotAllowed);
  EXPECT_TRUE(Check(ec_.Token(Claims())));
}

TEST_F(IdTokenTest, AKeyIdTheSetLacksIsUnknownAndAKeyOfAnotherTypeFails) {
  JwtSigner stranger(JwtSigner::Type::kRsa, "rsa-2");
  ExpectRefused(stranger.Token(Claims()), TokenReason::kUnknownKey);
  // Signed by a key that is not rsa-1 but names it.
  JwtSigner impostor(JwtSigner::Type::kRsa, "rsa-1");
  ExpectRefused(impostor.Token(Claims()), TokenReason::kBadSignature);
  // ES256 naming the RSA key: the key cannot check it.
  ExpectRefused(ec_.Sign(rsa_.Header("ES256"), Claims(), "ES256"), TokenReason::kBadSignature);
}

TEST_F(IdTokenTest, ATamperedPayloadOrSignatureIsABadSignature) {
  std::string token = rsa_.Token(Claims());
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  std::string other = rsa_.Token(Claims(0, 600, R"(,"admin":true)"));
  std::string swapped = token.substr(0, first + 1) +
                        other.substr(other.find('.') + 1, other.rfind('.') - other.find('.') - 1) +
                        token.substr(second);
  ExpectRefused(swapped, TokenReason::kBadSignature);
  std::string flipped = token;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  ExpectRefused(flipped, TokenReason::kBadSignature);
}

TEST_F(IdTokenTest, IssuerAudienceAndAuthorizedPartyMustBeTheAppsOwn) {
  ExpectRefused(rsa_.Token(Claims(0, 600, "", R"("client-1")", "https://evil.test")),
                TokenReason::kWrongIssuer);
  ExpectRefused(rsa_.Token(Claims(0, 600, "", R"("someone-else")")), TokenReason::kWrongAudience);
  ExpectRefused(rsa_.Token(Claims(0, 600, "", R"(["client-1","other"])")),
                TokenReason::kWrongAudience);  // several audiences and no azp
  EXPECT_TRUE(Check(rsa_.Token(Claims(0, 600, R"(,"azp":"client-1")", R"(["client-1","o"])"))));
  ExpectRefused(rsa_.Token(Claims(0, 600, R"(,"azp":"other")", R"(["client-1","other"])")),
                TokenReason::kWrongAudience);
}

TEST_F(IdTokenTest, TimesHoldWithinTheLeewayOnly) {
  ExpectRefused(rsa_.Token(Claims(-700, -61)), TokenReason::kExpired);
  EXPECT_TRUE(Check(rsa_.Token(Claims(-700, -59))));  // within the 60 s leeway
  ExpectRefused(rsa_.Token(Claims(61, 600)), TokenReason::kNotYetValid);
  std::int64_t later = system_clock::to_time_t(kNow) + 120;
  ExpectRefused(rsa_.Token(Claims(0, 600, R"(,"nbf":)" + std::to_string(later))),
                TokenReason::kNotYetValid);
  rules_.max_token_age = seconds(300);
  ExpectRefused(rsa_.Token(Claims(-400, 600)), TokenReason::kTooOld);
  ExpectRefused(rsa_.Token(R"({"iss":"https://idp.test","sub":"a","aud":"client-1"})"),
                TokenReason::kMalformed);  // no exp or iat
}

TEST_F(IdTokenTest, NonceSubjectRequiredClaimsAndVerifiedEmail) {
  std::string with_nonce = rsa_.Token(Claims(0, 600, R"(,"nonce":"n-123")"));
  EXPECT_TRUE(Check(with_nonce, "n-123"));
  ExpectRefused(with_nonce, TokenReason::kNonceMismatch, "n-999");
  ExpectRefused(rsa_.Token(Claims()), TokenReason::kNonceMismatch, "n-123");
  std::int64_t now = system_clock::to_time_t(kNow);
  ExpectRefused(rsa_.Token(R"({"iss":"https://idp.test","aud":"client-1","iat":)" +
                           std::to_string(now) + R"(,"exp":)" + std::to_string(now + 60) + "}"),
                TokenReason::kMissingClaim);
  rules_.required_claims = {{"hd", "example.com"}};
  ExpectRefused(rsa_.Token(Claims()), TokenReason::kMissingClaim);
  EXPECT_TRUE(Check(rsa_.Token(Claims(0, 600, R"(,"hd":"example.com")"))));
  rules_.required_claims.clear();
  rules_.require_email_verified = true;
  ExpectRefused(rsa_.Token(Claims(0, 600, R"(,"email":"a@x.org","email_verified":false)")),
                TokenReason::kEmailNotVerified);
  ExpectRefused(rsa_.Token(Claims(0, 600, R"(,"email":"a@x.org")")),
                TokenReason::kEmailNotVerified);
  EXPECT_TRUE(Check(rsa_.Token(Claims(0, 600, R"(,"email":"a@x.org","email_verified":true)"))));
}

TEST_F(IdTokenTest, OversizeMalformedAndCriticalTokensAreRefusedBeforeAnyKey) {
  ExpectRefused(rsa_.Token(Claims(0, 600, R"(,"pad":")" + std::string(20000, 'x') + "\"")),
                TokenReason::kTooLarge);
  ExpectRefused("not-a-token", TokenReason::kMalformed);
  ExpectRefused("a.b.c.d.e", TokenReason::kMalformed);
  ExpectRefused("!!!.e30.e30", TokenReason::kMalformed);
  ExpectRefused(
      rsa_.Sign(R"({"alg":"RS256","kid":"rsa-1","crit":["exp"],"exp":1})", Claims(), "RS256"),
      TokenReason::kMalformed);
}

TEST(JwkSet, KeepsOnlyKeysThatCanSignAndRefusesASetWithNone) {
  JwtSigner rsa(JwtSigner::Type::kRsa, "r");
  auto set = JwkSet::Parse(R"({"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"},)" + rsa.PublicJwk() +
                           R"(,{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB",)"
                           R"("e":"AQAB"}]})");
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->size(), 1u);
  EXPECT_NE(set->Find("r"), nullptr);
  EXPECT_EQ(set->Find("h"), nullptr);
  EXPECT_NE(set->Find(""), nullptr);  // the only key answers a token without a kid
  EXPECT_FALSE(JwkSet::Parse(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})"));
  EXPECT_FALSE(JwkSet::Parse(R"({"nokeys":[]})"));
  EXPECT_FALSE(JwkSet::Parse("garbage"));
}

}  // namespace
}  // namespace vendo::oidc
