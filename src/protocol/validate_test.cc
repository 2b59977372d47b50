#include "protocol/validate.h"

#include <gtest/gtest.h>

#include <string>

namespace vendo::protocol {
namespace {

TEST(Validate, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("J\xc3\xbcrgen"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));           // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));       // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));           // truncated
  EXPECT_EQ(Utf16Length("\xf0\x9f\x98\x80"), 2u);  // one emoji, two UTF-16 units
}

TEST(Validate, Uid) {
  EXPECT_TRUE(IsValidUid(std::string(32, 'a')));
  EXPECT_TRUE(IsValidUid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_FALSE(IsValidUid(std::string(23, 'a')));
  EXPECT_FALSE(IsValidUid(std::string(129, 'a')));
  EXPECT_FALSE(IsValidUid(std::string(30, 'a') + " b"));
  EXPECT_FALSE(IsValidUid(std::string(30, 'a') + "\xc3\xa4"));
}

TEST(Validate, UidsCannotHoldWildcardsVariablesOrPathSeparators) {
  // What the stock clients make: 32 hex characters, Android's lower-case and iOS's upper-case
  // UUID strings.
  EXPECT_TRUE(IsValidUid("0123456789abcdef0123456789abcdef"));
  EXPECT_TRUE(IsValidUid("123E4567-E89B-12D3-A456-426614174000"));
  EXPECT_TRUE(IsValidIdentityUid("fedcba9876543210fedcba9876543210"));
  // What would widen a template such as bucket/${uid}/*.
  EXPECT_FALSE(IsValidUid("????????????????????????*"));
  EXPECT_FALSE(IsValidUid(std::string(24, '*')));
  EXPECT_FALSE(IsValidUid("${aws:username}xxxxxxxxxx"));
  EXPECT_FALSE(IsValidUid("0123456789abcdef01234567/x"));
  EXPECT_FALSE(IsValidIdentityUid("victim/x"));
  EXPECT_FALSE(IsValidIdentityUid("*"));
  EXPECT_FALSE(IsValidIdentityUid(""));
  for (char c : std::string_view("*?$/\\\"',;:#%&()[]{}<>|~`!^")) {
    EXPECT_FALSE(IsUidChar(c)) << c;
  }
}

TEST(Validate, V2PasswordsAreEightTo1024BytesOfUtf8) {
  EXPECT_TRUE(IsValidV2Password(std::string(kV2PasswordRule.min, 'x')));
  EXPECT_TRUE(IsValidV2Password(std::string(kV2PasswordRule.max, 'x')));
  EXPECT_FALSE(IsValidV2Password(std::string(kV2PasswordRule.min - 1, 'x')));
  EXPECT_FALSE(IsValidV2Password(std::string(kV2PasswordRule.max + 1, 'x')));
  EXPECT_FALSE(IsValidV2Password("bad \xff password"));
  // The username rule has no '-': the pages and docs once said it had.
  EXPECT_FALSE(IsValidUsername("a-b-c"));
  EXPECT_EQ(kUsernameRule.hint.find('-'), std::string_view::npos);
}

TEST(Validate, Username) {
  EXPECT_TRUE(IsValidUsername("alice"));
  EXPECT_TRUE(IsValidUsername("alice.smith_1@example.com"));
  EXPECT_TRUE(IsValidUsername("J\xc3\xbcrgen"));  // Jürgen: a Unicode letter
  EXPECT_FALSE(IsValidUsername("al"));
  EXPECT_FALSE(IsValidUsername("al ice"));
  EXPECT_FALSE(IsValidUsername("alice-smith"));
  EXPECT_FALSE(IsValidUsername(std::string(129, 'a')));
  EXPECT_FALSE(IsValidUsername("ali\xff"));
}

TEST(Validate, Password) {
  EXPECT_TRUE(IsValidPassword("secret"));
  EXPECT_TRUE(IsValidPassword("p\xc3\xa4sswort"));
  EXPECT_FALSE(IsValidPassword("short"));
  EXPECT_FALSE(IsValidPassword(std::string(129, 'x')));
  EXPECT_FALSE(IsValidPassword("secret\xff"));
}

}  // namespace
}  // namespace vendo::protocol
