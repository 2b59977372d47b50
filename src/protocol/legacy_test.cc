// Every case in ../shared/test-vectors/legacy-tvm/vectors.json, reproduced byte for byte.
#include "protocol/legacy.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "protocol/timestamp.h"

namespace vendo::protocol::legacy {
namespace {

namespace json = boost::json;

json::array LoadVectors() {
  std::string path = std::string(VENDO_SHARED_DIR) + "/test-vectors/legacy-tvm/vectors.json";
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path << " (the shared/ folder must sit beside the repo)";
    return {};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str()).as_array();
}

json::object Case(std::string_view name) {
  for (auto& v : LoadVectors()) {
    if (v.at("name").as_string() == name) {
      return v.as_object();
    }
  }
  ADD_FAILURE() << "vector " << name << " not found";
  return {};
}

std::string S(const json::value& v) { return std::string(v.as_string()); }

Credentials CredentialsOf(const json::object& vec, const json::value& expiration_ms) {
  const auto& c = vec.at("credentials").as_object();
  return Credentials{
      S(c.at("accessKey")), S(c.at("secretKey")), S(c.at("securityToken")),
      std::chrono::system_clock::time_point(std::chrono::milliseconds(expiration_ms.as_int64()))};
}

TEST(LegacyVectors, AllCasesPresent) { EXPECT_EQ(LoadVectors().size(), 2u); }

TEST(LegacyVectors, Tv1AnonymousSignatureAndBody) {
  json::object v = Case("tv1-anonymous");
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(Sign(Mode::kAnonymous, S(v.at("key")), S(v.at("timestamp"))), S(v.at("signature")));
  EXPECT_TRUE(VerifySignature(Mode::kAnonymous, S(v.at("key")), S(v.at("timestamp")),
                              S(v.at("signature"))));
  std::string plaintext = TokenPlaintext(CredentialsOf(v, v.at("expiration_ms")));
  EXPECT_EQ(plaintext, S(v.at("plaintext")));
  auto body = Wrap(plaintext, S(v.at("key")), *HexDecode(S(v.at("iv_hex"))));
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body + "\r\n", S(v.at("body")));
  auto back = Unwrap(S(v.at("body")), S(v.at("key")));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, plaintext);
}

TEST(LegacyVectors, Tv2IdentityHashLoginSignatureAndKeyWrap) {
  json::object v = Case("tv2-identity");
  ASSERT_FALSE(v.empty());
  std::string hash = SaltedPasswordHash(S(v.at("password")), S(v.at("username")),
                                        S(v.at("app_name")), S(v.at("endpoint_host")));
  EXPECT_EQ(hash, S(v.at("hash_salted_password")));
  const auto& login = v.at("login").as_object();
  EXPECT_EQ(Sign(Mode::kIdentity, hash, S(login.at("timestamp"))), S(login.at("signature")));
  std::string plaintext = KeyPlaintext(S(login.at("device_key")));
  EXPECT_EQ(plaintext, S(login.at("plaintext")));
  auto body = Wrap(plaintext, LoginWrapKey(hash), *HexDecode(S(login.at("iv_hex"))));
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body + "\r\n", S(login.at("body")));
}

TEST(LegacyVectors, Tv2IdentityGetToken) {
  json::object v = Case("tv2-identity");
  ASSERT_FALSE(v.empty());
  const auto& gt = v.at("gettoken").as_object();
  std::string key = S(v.at("login").at("device_key"));
  EXPECT_EQ(Sign(Mode::kIdentity, key, S(gt.at("timestamp"))), S(gt.at("signature")));
  // An anonymous server would expect base64 for the same data (spec §11 TV3).
  EXPECT_EQ(Sign(Mode::kAnonymous, key, S(gt.at("timestamp"))),
            "Tt/q9Pa733L9wh/0fr0OlyjPCJf1clPioTypbKzIdZI=");
  json::object tv1 = Case("tv1-anonymous");
  std::string plaintext = TokenPlaintext(CredentialsOf(tv1, gt.at("expiration_ms")));
  EXPECT_EQ(plaintext, S(gt.at("plaintext")));
  auto body = Wrap(plaintext, key, *HexDecode(S(gt.at("iv_hex"))));
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body + "\r\n", S(gt.at("body")));
}

TEST(Legacy, SignatureComparisonIsCaseSensitive) {
  std::string key = "00112233445566778899aabbccddeeff";
  std::string ts = "2013-08-08T12:35:10.000Z";
  std::string sig = Sign(Mode::kIdentity, key, ts);
  std::string upper = sig;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_FALSE(VerifySignature(Mode::kIdentity, key, ts, upper));
  EXPECT_FALSE(VerifySignature(Mode::kAnonymous, key, ts, sig));
}

TEST(Legacy, NormalizeEndpointAsClientsDo) {
  EXPECT_EQ(NormalizeEndpoint("http://TVM.Example.com/"), "tvm.example.com");
  EXPECT_EQ(NormalizeEndpoint("https://tvm.example.com:8443/apps/x/"),
            "tvm.example.com:8443/apps/x");
  EXPECT_EQ(NormalizeEndpoint("127.0.0.1:8080/apps/identity-demo"),
            "127.0.0.1:8080/apps/identity-demo");
}

TEST(Legacy, UsableAesKeys) {
  EXPECT_TRUE(IsUsableAesKey(std::string(32, 'a')));
  EXPECT_TRUE(IsUsableAesKey(std::string(48, 'F')));
  EXPECT_TRUE(IsUsableAesKey(std::string(64, '0')));
  EXPECT_FALSE(IsUsableAesKey(std::string(31, 'a')));
  EXPECT_FALSE(IsUsableAesKey(std::string(40, 'a')));
  EXPECT_FALSE(IsUsableAesKey(std::string(31, 'a') + "g"));
}

}  // namespace
}  // namespace vendo::protocol::legacy
