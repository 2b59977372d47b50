#include "common/encoding.h"

#include <gtest/gtest.h>

namespace vendo {
namespace {

TEST(Hex, RoundTrip) {
  Bytes b{0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "0001abff");
  EXPECT_EQ(*HexDecode("0001ABff"), b);
}

TEST(Hex, RejectsOddLengthAndNonHex) {
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
  EXPECT_FALSE(IsHex("12g4"));
  EXPECT_TRUE(IsHex("12aF"));
}

TEST(Base64, RoundTripWithPadding) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    std::string enc = Base64Encode(AsBytes(s));
    auto dec = Base64Decode(enc);
    ASSERT_TRUE(dec.has_value()) << s;
    EXPECT_EQ(AsChars(*dec), s);
  }
  EXPECT_EQ(Base64Encode(AsBytes("fo")), "Zm8=");
}

TEST(Base64, IsStrictAboutPadding) {
  for (const char* bad : {"====", "A===", "QQ==QUJD", "Q=Q=", "QQ=A", "=QQQ", "QR==", "QUJ="}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
  EXPECT_EQ(Base64Decode("QQ==").value(), Bytes({'A'}));
  EXPECT_EQ(Base64Decode("QUI=").value(), Bytes({'A', 'B'}));
  EXPECT_EQ(Base64Decode("").value(), Bytes());
}

TEST(Base64, RejectsMalformed) {
  EXPECT_FALSE(Base64Decode("Zm8").has_value());
  EXPECT_FALSE(Base64Decode("Zm8\n").has_value());
  EXPECT_FALSE(Base64Decode("Z!8=").has_value());
}

TEST(AsciiLower, LowersOnlyAscii) {
  EXPECT_EQ(AsciiLower("MyApp:8080/X\xc3\x84"), "myapp:8080/x\xc3\x84");
}

}  // namespace
}  // namespace vendo

namespace vendo {
namespace {

TEST(PercentDecode, FormAndUriFlavours) {
  std::string out;
  ASSERT_TRUE(PercentDecode("a+b%20c%2B%e1%88%b4", out, true));
  EXPECT_EQ(out, "a b c+\xe1\x88\xb4");
  ASSERT_TRUE(PercentDecode("a+b", out, false));
  EXPECT_EQ(out, "a+b");
  EXPECT_FALSE(PercentDecode("%", out, false));
  EXPECT_FALSE(PercentDecode("%4", out, false));
  EXPECT_FALSE(PercentDecode("%g0", out, true));
  ASSERT_TRUE(PercentDecode("", out, true));
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace vendo

namespace vendo {
namespace {

TEST(DecodeQueryPairs, SplitsDecodesAndBounds) {
  auto p = DecodeQueryPairs("&a=1&&b&c=x+y%21", true, 10);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[1], (std::pair<std::string, std::string>{"b", ""}));
  EXPECT_EQ((*p)[2].second, "x y!");
  EXPECT_EQ((*DecodeQueryPairs("c=x+y", false, 10))[0].second, "x+y");
  EXPECT_FALSE(DecodeQueryPairs("a=1&b=2&c=3", true, 2).has_value());
  EXPECT_FALSE(DecodeQueryPairs("a=%z1", true, 10).has_value());
}

TEST(ReadDigits, ExactWidth) {
  int v = 0;
  EXPECT_TRUE(ReadDigits("x2026-", 1, 4, v));
  EXPECT_EQ(v, 2026);
  EXPECT_FALSE(ReadDigits("20a6", 0, 4, v));
  EXPECT_FALSE(ReadDigits("202", 0, 4, v));
}

}  // namespace
}  // namespace vendo
