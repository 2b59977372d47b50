#include "issuer/session_name.h"

#include <gtest/gtest.h>

namespace vendo::issuer {
namespace {

TEST(SessionName, KeepsValidNames) {
  EXPECT_EQ(MakeSessionName("alice", 32), "alice");
  EXPECT_EQ(MakeSessionName("0123456789abcdef0123456789abcdef", 32),
            "0123456789abcdef0123456789abcdef");
}

TEST(SessionName, MakesLongAndInvalidNamesValidAndDistinct) {
  std::string uuid = "123e4567-e89b-12d3-a456-426614174000";  // 36 characters
  std::string a = MakeSessionName(uuid, 32);
  EXPECT_TRUE(IsValidSessionName(a, 32)) << a;
  EXPECT_TRUE(a.starts_with("123e4567-e89b-1"));
  EXPECT_EQ(a, MakeSessionName(uuid, 32));  // deterministic
  EXPECT_NE(a, MakeSessionName("123e4567-e89b-12d3-a456-426614174001", 32));
  std::string b = MakeSessionName("J\xc3\xbcrgen", 32);
  EXPECT_TRUE(IsValidSessionName(b, 32)) << b;
  EXPECT_TRUE(IsValidSessionName(MakeSessionName("x", 64), 64));
  EXPECT_TRUE(IsValidSessionName(MakeSessionName(std::string(100, 'a'), 64), 64));
}

TEST(ExpandName, SubstitutesTheKnownVariables) {
  NameVars vars{"photos", "dev-1", "alice", "42"};
  EXPECT_EQ(ExpandName("${username}", vars).value(), "alice");
  EXPECT_EQ(ExpandName("${app}.${uid}@${userid}", vars).value(), "photos.dev-1@42");
  EXPECT_EQ(ExpandName("fixed", vars).value(), "fixed");
}

TEST(ExpandName, RejectsUnknownOrUnclosedVariables) {
  NameVars vars{};
  EXPECT_NE(ExpandName("${user}", vars).error().message.find("unknown variable ${user}"),
            std::string::npos);
  EXPECT_FALSE(ExpandName("${uid", vars));
}

}  // namespace
}  // namespace vendo::issuer
