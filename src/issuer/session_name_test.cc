#include "issuer/session_name.h"

#include <gtest/gtest.h>

#include "testing/error_is.h"

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

TEST(ExpandName, TakesTheProviderAndClaimsOnlyInFederatedApps) {
  std::vector<std::pair<std::string, std::string>> claims{{"email", "a@example.com"},
                                                          {"sub", "1234"}};
  NameVars federated{"photos", "", "google:1234", "u1", "google", &claims};
  EXPECT_EQ(ExpandName("${idp}.${claim:email}", federated).value(), "google.a@example.com");
  auto missing = ExpandName("${claim:hd}", federated);
  EXPECT_THAT(missing, ::vendo::testing::ErrorIs(ErrorCode::kInvalidArgument));
  EXPECT_NE(missing.error().message.find("no claim hd"), std::string::npos);
  NameVars plain{"photos", "dev-1", "", ""};
  for (const char* tmpl : {"${idp}", "${claim:sub}"}) {
    auto refused = ExpandName(tmpl, plain);
    ASSERT_FALSE(refused) << tmpl;
    EXPECT_NE(refused.error().message.find("only for a federated app"), std::string::npos);
  }
  EXPECT_FALSE(ExpandName("${claim:}", federated));  // no name: an unknown variable
}

TEST(NameClaims, ListsEachClaimOnce) {
  EXPECT_EQ(NameClaims("${claim:sub}-${app}.${claim:email}.${claim:sub}"),
            (std::vector<std::string>{"email", "sub"}));
  EXPECT_TRUE(NameClaims("${username}").empty());
}

}  // namespace
}  // namespace vendo::issuer
