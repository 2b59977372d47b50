#include "common/address_key.h"

#include <gtest/gtest.h>

namespace vendo {
namespace {

TEST(AddressKey, Ipv4IsOneClient) {
  EXPECT_EQ(AddressKey("192.0.2.7", 64), "192.0.2.7");
  EXPECT_EQ(AddressKey("::ffff:192.0.2.7", 64), "192.0.2.7");  // a dual-stack listener's view
}

TEST(AddressKey, Ipv6CountsByItsPrefix) {
  EXPECT_EQ(AddressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("2001:db8:1:2::1", 64), AddressKey("2001:db8:1:2:ffff::9", 64));
  EXPECT_NE(AddressKey("2001:db8:1:2::1", 64), AddressKey("2001:db8:1:3::1", 64));
  EXPECT_EQ(AddressKey("2001:db8:1:2ff::1", 56), "2001:db8:1:200::/56");
  EXPECT_EQ(AddressKey("2001:db8:1:2ff::1", 52), "2001:db8:1::/52");
  EXPECT_EQ(AddressKey("2001:db8::1", 128), "2001:db8::1");
  EXPECT_EQ(AddressKey("2001:DB8::1", 128), "2001:db8::1");  // one spelling per address
}

TEST(AddressKey, WhatIsNoAddressStaysAsItIs) {
  EXPECT_EQ(AddressKey("", 64), "");
  EXPECT_EQ(AddressKey("not an address", 64), "not an address");
}

TEST(AddressKey, LoopbackInEverySpelling) {
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("127.9.9.9"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_TRUE(IsLoopback("::ffff:127.0.0.1"));
  EXPECT_FALSE(IsLoopback("10.0.0.1"));
  EXPECT_FALSE(IsLoopback("2001:db8::1"));
  EXPECT_FALSE(IsLoopback("127.0.0.1.example.com"));
  EXPECT_FALSE(IsLoopback(""));
}

}  // namespace
}  // namespace vendo
