// The provider's keys: discovery then JWKS, kept per Cache-Control, refetched for an unknown
// key id at most once per min_refetch, and kept while the provider is down.
#include "oidc/key_source.h"

#include <gtest/gtest.h>

#include "testing/fake_net.h"
#include "testing/fixed_clock.h"
#include "testing/jwt_signer.h"

namespace vendo::oidc {
namespace {

using namespace std::chrono;
using testing::JwtSigner;
using testing::Reply;

class KeySourceTest : public ::testing::Test {
 protected:
  net::HttpReply Discovery(const std::string& issuer = "https://idp.test") {
    return Reply(200, R"({"issuer":")" + issuer + R"(","jwks_uri":"https://keys.idp.test/jwks"})");
  }
  net::HttpReply Jwks(const JwtSigner& key, std::string cache_control = "max-age=600") {
    net::HttpReply r = Reply(200, R"({"keys":[)" + key.PublicJwk() + "]}");
    r.headers.emplace_back("Cache-Control", std::move(cache_control));
    return r;
  }
  std::shared_ptr<const JwkSet> Ask(bool unknown_kid = false) {
    std::shared_ptr<const JwkSet> got;
    bool answered = false;
    source_.Keys(unknown_kid, [&](std::shared_ptr<const JwkSet> keys) {
      got = std::move(keys);
      answered = true;
    });
    EXPECT_TRUE(answered);  // the scripted transport answers at once
    return got;
  }

  FixedClock clock_{system_clock::from_time_t(1795337247)};
  testing::ScriptedTransport transport_;
  KeySource source_{transport_, clock_, {.issuer_url = "https://idp.test"}};
  JwtSigner first_{JwtSigner::Type::kRsa, "k1"};
  JwtSigner second_{JwtSigner::Type::kEc, "k2"};
};

TEST_F(KeySourceTest, DiscoveryThenKeysOverHttpsKeptForTheirMaxAge) {
  transport_.script = {Discovery(), Jwks(first_)};
  auto keys = Ask();
  ASSERT_TRUE(keys);
  EXPECT_NE(keys->Find("k1"), nullptr);
  ASSERT_EQ(transport_.calls.size(), 2u);
  EXPECT_EQ(transport_.calls[0].host, "idp.test");
  EXPECT_EQ(transport_.calls[0].path, "/.well-known/openid-configuration");
  EXPECT_TRUE(transport_.calls[0].tls);
  EXPECT_EQ(transport_.calls[1].host, "keys.idp.test");
  EXPECT_EQ(transport_.calls[1].path, "/jwks");

  clock_.Advance(seconds(599));
  EXPECT_EQ(Ask(), keys);  // fresh: no request
  EXPECT_EQ(transport_.calls.size(), 2u);
  clock_.Advance(seconds(2));
  transport_.script = {Discovery(), Jwks(second_)};
  auto rotated = Ask();
  ASSERT_TRUE(rotated);
  EXPECT_NE(rotated->Find("k2"), nullptr);
  EXPECT_EQ(transport_.calls.size(), 4u);
}

TEST_F(KeySourceTest, AnUnknownKidRefetchesAtMostOncePerInterval) {
  transport_.script = {Discovery(), Jwks(first_)};
  ASSERT_TRUE(Ask());
  transport_.script = {Discovery(), Jwks(second_)};
  for (int i = 0; i < 50; ++i) {  // a flood of tokens naming made-up key ids
    Ask(/*unknown_kid=*/true);
  }
  EXPECT_EQ(transport_.calls.size(), 2u) << "within min_refetch of the first fetch";
  clock_.Advance(seconds(61));
  auto keys = Ask(true);
  ASSERT_TRUE(keys);
  EXPECT_NE(keys->Find("k2"), nullptr);
  EXPECT_EQ(transport_.calls.size(), 4u);
  for (int i = 0; i < 50; ++i) {
    Ask(true);
  }
  EXPECT_EQ(transport_.calls.size(), 4u);
}

TEST_F(KeySourceTest, AProviderThatIsDownKeepsTheKeysHeldAndNoKeysIsNull) {
  EXPECT_EQ(Ask(), nullptr);  // never fetched: the script is empty, the provider "down"
  EXPECT_EQ(source_.Stats().failures, 1u);
  clock_.Advance(seconds(61));
  transport_.script = {Discovery(), Jwks(first_, "max-age=60")};
  auto keys = Ask();
  ASSERT_TRUE(keys);
  clock_.Advance(seconds(3600));  // long stale, and the provider down again
  EXPECT_EQ(Ask(), keys);
  EXPECT_EQ(source_.Stats().failures, 2u);
}

TEST_F(KeySourceTest, ADiscoveryDocumentOfAnotherIssuerOrPlainHttpKeysAreRefused) {
  transport_.script = {Discovery("https://evil.test")};
  EXPECT_EQ(Ask(), nullptr);
  clock_.Advance(seconds(61));
  transport_.script = {
      Reply(200, R"({"issuer":"https://idp.test","jwks_uri":"http://keys.idp.test/jwks"})")};
  EXPECT_EQ(Ask(), nullptr);
  EXPECT_EQ(transport_.calls.size(), 2u);  // the plain-HTTP key URL was never asked
}

TEST(CacheLifetime, ReadsMaxAgeWithinBounds) {
  EXPECT_EQ(CacheLifetime("public, max-age=19800, must-revalidate", seconds(3600), seconds(60),
                          seconds(86400)),
            seconds(19800));
  EXPECT_EQ(CacheLifetime("", seconds(3600), seconds(60), seconds(86400)), seconds(3600));
  EXPECT_EQ(CacheLifetime("max-age=5", seconds(3600), seconds(60), seconds(86400)), seconds(60));
  EXPECT_EQ(CacheLifetime("Max-Age=999999", seconds(3600), seconds(60), seconds(86400)),
            seconds(86400));
  EXPECT_EQ(CacheLifetime("no-store", seconds(3600), seconds(60), seconds(86400)), seconds(60));
}

}  // namespace
}  // namespace vendo::oidc
