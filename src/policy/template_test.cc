#include "policy/template.h"

#include <gtest/gtest.h>

namespace vendo::policy {
namespace {

TEST(PolicyTemplate, RendersVariablesAndLegacyPlaceholders) {
  auto t = Template::Parse(
      R"({"Statement":[{"Resource":"arn:aws:s3:::b/{{username}}/*"},{"Resource":"arn:aws:sdb:__REGION__:__ACCOUNT_ID__:domain/__USERNAME__"}]})");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  auto out = t->Render({"app", "dev", "alice", "eu-west-1", "111122223333"});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(
      *out,
      R"({"Statement":[{"Resource":"arn:aws:s3:::b/alice/*"},{"Resource":"arn:aws:sdb:eu-west-1:111122223333:domain/alice"}]})");
}

TEST(PolicyTemplate, EscapesValuesSoTheyCannotBreakOut) {
  auto t = Template::Parse(R"({"Resource":"{{username}}"})");
  ASSERT_TRUE(t.has_value());
  auto out = t->Render({"a", "d", "x\",\"Effect\":\"Allow", "", ""});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, R"({"Resource":"x\",\"Effect\":\"Allow"})");
}

TEST(PolicyTemplate, RejectsUnknownVariablesAndBadJson) {
  EXPECT_FALSE(Template::Parse(R"({"Resource":"{{user}}"})").has_value());
  EXPECT_FALSE(Template::Parse(R"({"Resource":)").has_value());
  EXPECT_FALSE(Template::Parse(R"([1,2])").has_value());
  EXPECT_FALSE(Template::Parse("{\"a\":\"" + std::string(3000, 'x') + "\"}").has_value());
}

TEST(PolicyTemplate, DefaultDevPolicyIsValid) {
  EXPECT_TRUE(Template::Parse(DefaultDevPolicy(false)).has_value());
  auto per_user = Template::Parse(DefaultDevPolicy(true));
  ASSERT_TRUE(per_user.has_value());
  auto out = per_user->Render({"app", "dev-1", "alice", "", ""});
  EXPECT_NE(out->find("vendo-app/alice/*"), std::string::npos);
  EXPECT_EQ(out->find("dev-1"), std::string::npos);
}

}  // namespace
}  // namespace vendo::policy
