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
