#include "http/address_connections.h"

#include <gtest/gtest.h>

namespace vendo::server {
namespace {

TEST(AddressConnections, EachAddressHoldsAtMostItsCap) {
  AddressConnections open(2, 64);
  auto a1 = open.Open("192.0.2.1");
  auto a2 = open.Open("192.0.2.1");
  ASSERT_TRUE(a1 && a2);
  EXPECT_FALSE(open.Open("192.0.2.1"));  // the third is refused
  EXPECT_TRUE(open.Open("192.0.2.2"));   // another client is not
  EXPECT_EQ(open.OpenFrom("192.0.2.1"), 2);
  open.Close(*a1);
  EXPECT_EQ(open.OpenFrom("192.0.2.1"), 1);
  EXPECT_TRUE(open.Open("192.0.2.1"));  // a closed connection frees its slot
}

TEST(AddressConnections, OneIpv6PrefixIsOneClient) {
  AddressConnections open(2, 64);
  ASSERT_TRUE(open.Open("2001:db8:1:2::1"));
  ASSERT_TRUE(open.Open("2001:db8:1:2::2"));
  EXPECT_FALSE(open.Open("2001:db8:1:2:ffff::3"));
  EXPECT_TRUE(open.Open("2001:db8:1:3::1"));
}

TEST(AddressConnections, ClosingEverythingForgetsTheAddress) {
  AddressConnections open(1, 64);
  auto key = open.Open("192.0.2.1");
  ASSERT_TRUE(key);
  open.Close(*key);
  open.Close(*key);  // a second close never goes below zero
  EXPECT_EQ(open.OpenFrom("192.0.2.1"), 0);
  EXPECT_TRUE(open.Open("192.0.2.1"));
  EXPECT_FALSE(open.Open("192.0.2.1"));
}

}  // namespace
}  // namespace vendo::server
