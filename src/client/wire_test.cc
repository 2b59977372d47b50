#include "client/wire.h"

#include <gtest/gtest.h>

#include "protocol/legacy.h"

namespace vendo::client::wire {
namespace {

using namespace std::chrono_literals;

TEST(ClientWireTest, ParsesHttpDates) {
  EXPECT_EQ(ParseHttpDate("Tue, 24 Nov 2026 08:47:27 GMT"),
            TimePoint(std::chrono::seconds(1'795'510'047)));
  EXPECT_FALSE(ParseHttpDate("yesterday"));
  EXPECT_FALSE(ParseHttpDate("Tue, 24 Nov 2026 08:47:27 GMT trailing"));
}

TEST(ClientWireTest, ReadsTheLegacyPlaintexts) {
  Credentials c{"AKIA", "se/cret", "to+ken",
                TimePoint(std::chrono::milliseconds(1'795'510'047'123))};
  auto parsed = ParseLegacyToken(protocol::legacy::TokenPlaintext(c));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->access_key_id, "AKIA");
  EXPECT_EQ(parsed->secret_access_key, "se/cret");
  EXPECT_EQ(parsed->session_token, "to+ken");
  EXPECT_EQ(parsed->expiration, c.expiration);
  EXPECT_EQ(*ParseLegacyKey(protocol::legacy::KeyPlaintext("00ff")), "00ff");
  EXPECT_FALSE(ParseLegacyToken("{\taccessKey: \"x\"}").has_value());
  EXPECT_FALSE(ParseLegacyKey("nothing").has_value());
}

TEST(ClientWireTest, MapsV2Errors) {
  Error e = V2Error(401, R"({"error":{"code":"expired_timestamp","message":"off by 400 s"}})");
  EXPECT_EQ(e.code, ErrorCode::kStaleRequest);
  EXPECT_NE(e.message.find("off by 400 s"), std::string::npos);
  EXPECT_EQ(V2Error(503, "<html>").code, ErrorCode::kUnavailable);
  EXPECT_EQ(V2Error(403, R"({"error":{"code":"user_disabled","message":""}})").code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(V2ErrorCode(R"({"error":{"code":"invalid_signature"}})"), "invalid_signature");
  EXPECT_EQ(V2ErrorCode("[]"), "");
}

TEST(ClientWireTest, EscapesQueryValues) {
  EXPECT_EQ(QueryEscape("a+b/c=d:e f~"), "a%2Bb%2Fc%3Dd%3Ae%20f~");
}

TEST(ClientWireTest, CredentialProcessJsonIsWhatAwsReads) {
  Credentials c{"AKIA", "secret", "token", TimePoint(std::chrono::seconds(1'795'510'047))};
  EXPECT_EQ(CredentialProcessJson(c),
            R"({"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"secret",)"
            R"("SessionToken":"token","Expiration":"2026-11-24T08:47:27Z"})");
}

}  // namespace
}  // namespace vendo::client::wire
