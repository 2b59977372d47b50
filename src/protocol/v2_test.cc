#include "protocol/v2.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace vendo::protocol::v2 {
namespace {

boost::json::array Vectors(const char* name) {
  std::ifstream in(std::string(VENDO_SOURCE_DIR) + "/tests/vectors/v2/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = boost::json::parse(ss.str());
  return doc.as_array();
}

std::string Str(const boost::json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

TEST(ProtocolV2, SigningVectors) {
  auto vectors = Vectors("signing.json");
  ASSERT_EQ(vectors.size(), 4u);
  for (const auto& v : vectors) {
    const auto& o = v.as_object();
    SCOPED_TRACE(Str(o, "name"));
    auto secret = Base64UrlDecode(Str(o, "device_secret"));
    ASSERT_TRUE(secret);
    ASSERT_EQ(secret->size(), kSecretBytes);
    std::string canonical =
        CanonicalRequest(Str(o, "method"), Str(o, "path"), Str(o, "body"), Str(o, "timestamp"),
                         Str(o, "nonce"), Str(o, "device_id"));
    EXPECT_EQ(canonical, Str(o, "canonical_request"));
    EXPECT_EQ(Signature(*secret, canonical), Str(o, "signature"));
    auto auth = ParseAuthorization(Str(o, "authorization"));
    ASSERT_TRUE(auth);
    EXPECT_EQ(auth->device_id, Str(o, "device_id"));
    EXPECT_EQ(auth->signature, Str(o, "signature"));
    EXPECT_EQ(FormatAuthorization(*auth), Str(o, "authorization"));
  }
}

TEST(ProtocolV2, SealingVectors) {
  for (const auto& v : Vectors("sealing.json")) {
    const auto& o = v.as_object();
    SCOPED_TRACE(Str(o, "name"));
    auto secret = *Base64UrlDecode(Str(o, "device_secret"));
    auto iv = *HexDecode(Str(o, "iv_hex"));
    auto sealed = Seal(secret, Str(o, "device_id"), Str(o, "nonce"), iv, Str(o, "plaintext"));
    ASSERT_TRUE(sealed) << sealed.error().message;
    EXPECT_EQ(*sealed, Str(o, "sealed"));
    auto opened = Unseal(secret, Str(o, "device_id"), Str(o, "nonce"), *sealed);
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, Str(o, "plaintext"));
    // Bound to its device and its request: another device id or nonce cannot open it.
    EXPECT_FALSE(Unseal(secret, "d_OTHER", Str(o, "nonce"), *sealed));
    EXPECT_FALSE(Unseal(secret, Str(o, "device_id"), "AAAAAAAAAAAAAAAAAAAAAA", *sealed));
  }
}

TEST(ProtocolV2, RefusesMalformedAuthorization) {
  for (const char* bad :
       {"", "VENDO-HMAC-SHA256", "Bearer x", "VENDO-HMAC-SHA256 Device=a,Timestamp=b,Nonce=c",
        "VENDO-HMAC-SHA256 Device=a,Device=a,Nonce=c,Signature=d",
        "VENDO-HMAC-SHA256 Device=a,Timestamp=,Nonce=c,Signature=d",
        "VENDO-HMAC-SHA256 Device=a,Timestamp=b,Nonce=c,Signature=d,Extra=e",
        "VENDO-HMAC-SHA256 Timestamp=b,Device=a,Nonce=c,Signature=d",  // order is fixed
        "VENDO-HMAC-SHA256 Device=a b,Timestamp=b,Nonce=c,Signature=d",
        "VENDO-HMAC-SHA256 Device=a,Timestamp=b,Nonce=c,Signature=d,"}) {
    EXPECT_FALSE(ParseAuthorization(bad)) << bad;
  }
}

TEST(ProtocolV2, TokenBodies) {
  EXPECT_FALSE(*ParseTokenBody(""));
  EXPECT_FALSE(*ParseTokenBody("{}"));
  EXPECT_TRUE(*ParseTokenBody(R"({"seal":true})"));
  for (const char* bad : {"[]", "{", R"({"seal":"yes"})", "null", "1"}) {
    EXPECT_FALSE(ParseTokenBody(bad)) << bad;
  }
}

TEST(ProtocolV2, Base64UrlRoundTripsAndIsStrict) {
  Bytes b = {0xfb, 0xff, 0xfe, 0x00};
  EXPECT_EQ(Base64UrlEncode(b), "-__-AA");
  EXPECT_EQ(*Base64UrlDecode("-__-AA"), b);
  EXPECT_FALSE(Base64UrlDecode("+//+AA"));
  EXPECT_FALSE(Base64UrlDecode("-__-AA=="));
}

}  // namespace
}  // namespace vendo::protocol::v2
