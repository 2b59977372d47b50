#include "server/trusted_proxies.h"

#include <gtest/gtest.h>

namespace vendo::server {
namespace {

TEST(TrustedProxies, MatchesAddressesAndNetworks) {
  auto t = TrustedProxies::Parse({"127.0.0.1", "10.0.0.0/8", "fd00::/8"});
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->Contains("127.0.0.1"));
  EXPECT_FALSE(t->Contains("127.0.0.2"));
  EXPECT_TRUE(t->Contains("10.200.3.4"));
  EXPECT_TRUE(t->Contains("::ffff:10.1.1.1"));  // IPv4-mapped
  EXPECT_TRUE(t->Contains("fd12::1"));
  EXPECT_FALSE(t->Contains("fe80::1"));
  EXPECT_FALSE(t->Contains("not-an-address"));
}

TEST(TrustedProxies, TakesTheLastForwardedAddressOnlyFromATrustedPeer) {
  auto t = TrustedProxies::Parse({"127.0.0.1"});
  ASSERT_TRUE(t);
  // The client may send its own X-Forwarded-For; the balancer appends the real address.
  EXPECT_EQ(t->ClientAddress("127.0.0.1", "6.6.6.6, 203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(t->ClientAddress("127.0.0.1", "203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(t->ClientAddress("198.51.100.1", "203.0.113.9"), "198.51.100.1");
  EXPECT_EQ(t->ClientAddress("127.0.0.1", ""), "127.0.0.1");
  EXPECT_EQ(t->ClientAddress("127.0.0.1", "garbage"), "127.0.0.1");
}

TEST(TrustedProxies, RejectsBadEntries) {
  EXPECT_FALSE(TrustedProxies::Parse({"lb.example.com"}));
  EXPECT_FALSE(TrustedProxies::Parse({"10.0.0.0/33"}));
  EXPECT_FALSE(TrustedProxies::Parse({"10.0.0.0/x"}));
}

}  // namespace
}  // namespace vendo::server
