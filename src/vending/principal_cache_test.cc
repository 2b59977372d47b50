#include "vending/principal_cache.h"

#include <gtest/gtest.h>

namespace vendo::server {
namespace {

RenderedGrant Grant(const std::string& tag) {
  return {"name-" + tag, R"({"p":")" + tag + R"("})", tag};
}

TEST(PrincipalCache, MakesOnceThenAnswersFromMemory) {
  PrincipalCache cache;
  int made = 0;
  auto make = [&]() -> Result<RenderedGrant> {
    ++made;
    return Grant("a");
  };
  for (int i = 0; i < 3; ++i) {
    auto g = cache.GetOrMake("dev-a", make);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->policy, "{\"p\":\"a\"}");
    EXPECT_EQ(g->session_name, "name-a");
  }
  EXPECT_EQ(made, 1);
  auto other = cache.GetOrMake("dev-b", [] { return Result<RenderedGrant>(Grant("b")); });
  ASSERT_TRUE(other);
  EXPECT_EQ(other->policy_sha256, "b");  // another key never gets a's entry
  EXPECT_EQ(cache.Size(), 2u);
}

TEST(PrincipalCache, KeepsNoFailure) {
  PrincipalCache cache;
  int made = 0;
  auto failing = [&]() -> Result<RenderedGrant> {
    ++made;
    return Fail(ErrorCode::kInvalidArgument, "not UTF-8");
  };
  EXPECT_FALSE(cache.GetOrMake("k", failing));
  EXPECT_FALSE(cache.GetOrMake("k", failing));
  EXPECT_EQ(made, 2);
  EXPECT_EQ(cache.Size(), 0u);
}

TEST(PrincipalCache, StaysWithinItsBound) {
  PrincipalCache cache(64);
  for (int i = 0; i < 10000; ++i) {
    std::string key = "device-" + std::to_string(i);
    auto g = cache.GetOrMake(key, [&] { return Result<RenderedGrant>(Grant(key)); });
    ASSERT_TRUE(g);
    EXPECT_EQ(g->policy_sha256, key);
  }
  EXPECT_LE(cache.Size(), 64u);
}

}  // namespace
}  // namespace vendo::server
