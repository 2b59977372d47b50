#include "policy/template.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "testing/error_is.h"

using vendo::testing::ErrorIs;

namespace vendo::policy {
namespace {

Vars Sample() { return {"app", "dev-1", "alice", "u-0001", "eu-west-1", "111122223333", "", {}}; }

TEST(PolicyTemplate, RendersVariablesAndLegacyPlaceholders) {
  auto t = Template::Parse(R"({"Statement": [
      {"Resource": "arn:aws:s3:::b/${username}/${uid}/${userid}/${app}/*"},
      {"Resource": "arn:aws:sdb:__REGION__:__ACCOUNT_ID__:domain/__USERNAME__"},
      {"Resource": "arn:aws:dynamodb:${region}:${account_id}:table/t"}]})");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  auto out = t->Render(Sample());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, R"({"Statement":[{"Resource":"arn:aws:s3:::b/alice/dev-1/u-0001/app/*"},)"
                  R"({"Resource":"arn:aws:sdb:eu-west-1:111122223333:domain/alice"},)"
                  R"({"Resource":"arn:aws:dynamodb:eu-west-1:111122223333:table/t"}]})");
}

TEST(PolicyTemplate, EscapesValuesSoTheyCannotBreakOut) {
  auto t = Template::Parse(R"({"Resource":"${username}"})");
  ASSERT_TRUE(t.has_value());
  Vars v = Sample();
  v.username = R"(x","Effect":"Allow)";
  EXPECT_EQ(*t->Render(v), R"({"Resource":"x\",\"Effect\":\"Allow"})");
}

TEST(PolicyTemplate, NoValueCanWidenWhatTheTemplateGrants) {
  auto t = Template::Parse(R"({"Resource":"arn:aws:s3:::b/${uid}/*"})");
  ASSERT_TRUE(t.has_value());
  for (const char* uid : {"????????????????????????*", "************************",
                          "${aws:username}xxxxxxxxxx", "VICTIM/x", "a?c", "$"}) {
    Vars v = Sample();
    v.uid = uid;
    auto out = t->Render(v);
    ASSERT_FALSE(out.has_value()) << uid << " rendered as " << *out;
    EXPECT_THAT(out, ErrorIs(ErrorCode::kPermissionDenied));
    EXPECT_NE(out.error().message.find("${uid}"), std::string::npos);
  }
  // A value the template does not use is not its business.
  Vars v = Sample();
  v.username = "*";
  EXPECT_TRUE(t->Render(v).has_value());
  EXPECT_FALSE(IsSafeValue("a*"));
  EXPECT_TRUE(IsSafeValue("123E4567-E89B-12D3-A456-426614174000"));
}

TEST(PolicyTemplate, WarnsWhereAVariableCouldActAsAPrefix) {
  auto ok = Template::Parse(R"({"Resource":"arn:aws:s3:::b/${uid}/*"})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->Warnings().empty());
  auto prefix = Template::Parse(
      R"({"Resource":"arn:aws:s3:::b/${uid}*","Condition":{"StringLike":{"k":"?${username}"}}})");
  ASSERT_TRUE(prefix.has_value());
  auto w = prefix->Warnings();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("\"${uid}*\""), std::string::npos) << w[0];
  EXPECT_NE(w[1].find("\"?${username}\""), std::string::npos) << w[1];
}

TEST(PolicyTemplate, IamVariablesPassThroughUnknownOnesAreErrors) {
  auto t = Template::Parse(R"({"Resource":"arn:aws:s3:::b/${aws:username}/${uid}"})");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(*t->Render(Sample()), R"({"Resource":"arn:aws:s3:::b/${aws:username}/dev-1"})");
  auto typo = Template::Parse(R"({"Resource":"${usename}"})");
  ASSERT_FALSE(typo.has_value());
  EXPECT_NE(typo.error().message.find("${usename}"), std::string::npos);
  EXPECT_FALSE(Template::Parse(R"({"Resource":"${uid")").has_value());
}

TEST(PolicyTemplate, MinifiesOutsideStringsOnly) {
  EXPECT_EQ(MinifyJson("{ \"a b\" : [ 1 ,\n\t2 ], \"q\\\" x\": \" \" }"),
            "{\"a b\":[1,2],\"q\\\" x\":\" \"}");
  auto t = Template::Parse("{\n  \"Version\": \"2012-10-17\"\n}");
  EXPECT_EQ(t->text(), R"({"Version":"2012-10-17"})");
}

TEST(PolicyTemplate, RejectsBadJsonAndPoliciesThatCanOutgrowSts) {
  EXPECT_FALSE(Template::Parse(R"({"Resource":)").has_value());
  EXPECT_FALSE(Template::Parse(R"([1,2])").has_value());
  EXPECT_FALSE(Template::Parse("{\"a\":\"" + std::string(3000, 'x') + "\"}").has_value());
  // Five usernames fit today's sample values but not 128 four-byte characters each.
  std::string five = R"({"a":"${username}${username}${username}${username}${username}"})";
  auto grows = Template::Parse(five);
  ASSERT_FALSE(grows.has_value());
  EXPECT_NE(grows.error().message.find("longest allowed"), std::string::npos);
  auto ok = Template::Parse(R"({"a":"${username}"})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_GT(ok->WorstCaseBytes(), 512u);
}

TEST(PolicyTemplate, DefaultDevPoliciesScopeToTheCaller) {
  auto per_device = Template::Parse(DefaultDevPolicy(false));
  ASSERT_TRUE(per_device.has_value()) << per_device.error().message;
  EXPECT_NE(per_device->Render(Sample())->find("vendo-app/dev-1/*"), std::string::npos);
  auto per_user = Template::Parse(DefaultDevPolicy(true));
  ASSERT_TRUE(per_user.has_value());
  auto out = per_user->Render(Sample());
  EXPECT_NE(out->find("vendo-app/alice/*"), std::string::npos);
  EXPECT_EQ(out->find("dev-1"), std::string::npos);
}

TEST(Template, RefusesValuesThatAreNotUtf8) {
  // Regression (fuzz_policy_template): escaping kept the value inside its string, but the
  // bytes made the rendered policy invalid JSON.
  auto t = Template::Parse(R"({"Resource":"b/${username}/*"})");
  ASSERT_TRUE(t);
  Vars vars;
  vars.username = "\xed\xff\xff";
  EXPECT_THAT(t->Render(vars), ErrorIs(ErrorCode::kInvalidArgument));
  vars.username = "J\xc3\xbcrgen";
  EXPECT_TRUE(t->Render(vars));
}

TEST(Template, RefusesVariablesOutsideStrings) {
  // Regression (fuzz_policy_template): a bare ${account_id} parsed with the numeric sample,
  // and a value such as "1}" could then have changed the policy's structure.
  for (const char* text : {R"({"Condition":{"N":${account_id}}})", R"({"A":[__REGION__]})",
                           R"({"${username}":"x","k":"v"} ${app})"}) {
    auto t = Template::Parse(text);
    ASSERT_FALSE(t) << text;
    EXPECT_NE(t.error().message.find("inside a JSON string"), std::string::npos) << text;
  }
  EXPECT_TRUE(Template::Parse(R"({"${username}":"a \"q\" ${uid}"})"));  // keys are strings too
}

}  // namespace
}  // namespace vendo::policy

namespace vendo::policy {
namespace {

Vars Federated(std::vector<std::pair<std::string, std::string>> claims) {
  Vars v{"photos", "", "", "", "eu-west-1", "111122223333", "google", std::move(claims)};
  std::sort(v.claims.begin(), v.claims.end());
  return v;
}

TEST(PolicyTemplateClaims, RendersClaimsAndTheProviderInsideStrings) {
  auto t = Template::Parse(
      R"({"Statement":[{"Resource":"arn:aws:s3:::b/${idp}/${claim:sub}/*",)"
      R"("Condition":{"StringEquals":{"aws:PrincipalTag/email":"${claim:email}"}}}]})");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->Claims(), (std::vector<std::string>{"email", "sub"}));
  auto r = t->Render(Federated({{"sub", "1234567890"}, {"email", "a@example.com"}}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("b/google/1234567890/*"), std::string::npos) << *r;
  EXPECT_NE(r->find(R"("a@example.com")"), std::string::npos) << *r;
}

TEST(PolicyTemplateClaims, AClaimThatCouldWidenOrIsMissingRefusesTheVend) {
  auto t = Template::Parse(R"({"Resource":"arn:aws:s3:::b/${claim:sub}/*"})");
  ASSERT_TRUE(t);
  for (const std::string& sub :
       std::vector<std::string>{"*", "a/b", "a?", "${aws:username}", "quote\"d", "back\\slash",
                                std::string("ctl\x01"), std::string(kMaxClaimBytes + 1, 'a')}) {
    auto r = t->Render(Federated({{"sub", sub}}));
    ASSERT_FALSE(r) << "rendered for sub " << sub << ": " << *r;
    EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  }
  auto missing = t->Render(Federated({{"email", "a@example.com"}}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(t->Render(Federated({{"sub", std::string(kMaxClaimBytes, 'a')}})));
}

TEST(PolicyTemplateClaims, TheWorstCaseCountsEveryClaimAtItsLongest) {
  // Eight uses of one 256-byte claim pass 2048 bytes: refused at Parse, not at a vend.
  std::string resources;
  for (int i = 0; i < 8; ++i) {
    resources +=
        std::string(i ? "," : "") + "\"arn:aws:s3:::b/${claim:email}/" + std::to_string(i) + "\"";
  }
  auto t = Template::Parse(R"({"Resource":[)" + resources + "]}");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("longest allowed"), std::string::npos) << t.error().message;
  EXPECT_FALSE(Template::Parse(R"({"Resource":"${claim:}"})"));
  EXPECT_FALSE(Template::Parse(R"({"Resource":"${claim:a b}"})"));
  EXPECT_FALSE(Template::Parse(R"({"Resource":${claim:sub}})"));  // outside a string
}

}  // namespace
}  // namespace vendo::policy
