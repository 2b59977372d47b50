#include "protocol/form.h"

#include <gtest/gtest.h>

namespace vendo::protocol {
namespace {

TEST(Params, DecodesPercentAndPlusAndTrims) {
  auto p = Params::Parse(
      "uid=abc&timestamp=2013-08-08T12%3A34%3A56.789Z&signature=svxyJ%2BvN%3D&x=a+b", "", "");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p->Required("timestamp"), "2013-08-08T12:34:56.789Z");
  EXPECT_EQ(*p->Required("signature"), "svxyJ+vN=");
  EXPECT_EQ(*p->Get("x"), "a b");
  // An unencoded '+' in a base64 signature becomes a space, as in any servlet.
  auto q = Params::Parse("signature=ab+cd", "", "");
  EXPECT_EQ(*q->Required("signature"), "ab cd");
}

TEST(Params, EdgeCasesOfTheEncoding) {
  auto p = Params::Parse("&&a=1&&b&c=&=x&d=%3D%26%2b%25&e=%C3%A4&a=2", "", "");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p->Get("a"), "1");  // the first occurrence wins
  EXPECT_EQ(*p->Get("b"), "");   // a name without '=' is present and empty
  EXPECT_EQ(*p->Get("c"), "");
  EXPECT_EQ(*p->Get(""), "x");
  EXPECT_EQ(*p->Get("d"), "=&+%");
  EXPECT_EQ(*p->Get("e"), "\xc3\xa4");
  EXPECT_EQ(*Params::Parse("%FF=%00", "", "")->Get("\xff"), std::string_view("\0", 1));
}

TEST(Params, MissingBlankAndTrimmed) {
  auto p = Params::Parse("a=&b=%20%20&c=%20v%09", "", "");
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->Required("a").has_value());
  EXPECT_FALSE(p->Required("b").has_value());
  EXPECT_EQ(*p->Required("c"), "v");
  EXPECT_FALSE(p->Required("zzz").has_value());
}

TEST(Params, QueryBeforeFormBodyFirstWins) {
  auto p = Params::Parse("uid=fromquery", "uid=frombody&key=k",
                         "application/x-www-form-urlencoded; charset=UTF-8");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p->Required("uid"), "fromquery");
  EXPECT_EQ(*p->Required("key"), "k");
  auto json = Params::Parse("", "key=k", "application/json");
  EXPECT_FALSE(json->Required("key").has_value());
}

TEST(Params, RejectsMalformedEncodingAndTooMany) {
  EXPECT_FALSE(Params::Parse("uid=%zz", "", "").has_value());
  EXPECT_FALSE(Params::Parse("uid=%4", "", "").has_value());
  EXPECT_FALSE(Params::Parse("uid=%", "", "").has_value());
  EXPECT_FALSE(Params::Parse("u%g1d=1", "", "").has_value());
  EXPECT_FALSE(Params::Parse("", "key=%x0", "application/x-www-form-urlencoded").has_value());
  std::string many;
  for (int i = 0; i < 100; ++i) {
    many.append("p").append(std::to_string(i)).append("=1&");
  }
  EXPECT_FALSE(Params::Parse(many, "", "").has_value());
}

}  // namespace
}  // namespace vendo::protocol
