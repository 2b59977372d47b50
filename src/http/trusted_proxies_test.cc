#include "http/trusted_proxies.h"

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

TEST(TrustedProxies, WalksFromTheRightPastEveryTrustedProxy) {
  auto t = TrustedProxies::Parse({"127.0.0.1", "10.0.0.0/8"});
  ASSERT_TRUE(t);
  // Two balancers in a row, each appending: the client is the first untrusted entry.
  EXPECT_EQ(t->ClientAddress("127.0.0.1", "203.0.113.9, 10.0.0.5"), "203.0.113.9");
  // A client that claims to be loopback or a proxy is still the address its balancer saw.
  EXPECT_EQ(t->ClientAddress("127.0.0.1", "127.0.0.1, 203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(t->ClientAddress("127.0.0.1", "10.0.0.9,127.0.0.1, 203.0.113.9"), "203.0.113.9");
  // Several header fields, joined in order by the server (haproxy appends its own field).
  EXPECT_EQ(t->ClientAddress("10.1.1.1", "127.0.0.1,198.51.100.7"), "198.51.100.7");
  // Only trusted hops: the leftmost is the closest known address.
  EXPECT_EQ(t->ClientAddress("127.0.0.1", "10.0.0.2, 10.0.0.3"), "10.0.0.2");
  // Garbage written by an untrusted party stops the walk at the hop that passed it on.
  EXPECT_EQ(t->ClientAddress("127.0.0.1", "10.0.0.2, not-an-ip, 10.0.0.3"), "10.0.0.3");
  EXPECT_EQ(t->ClientAddress("127.0.0.1", "203.0.113.9,,"), "203.0.113.9");
}

TEST(TrustedProxies, RejectsBadEntries) {
  EXPECT_FALSE(TrustedProxies::Parse({"lb.example.com"}));
  EXPECT_FALSE(TrustedProxies::Parse({"10.0.0.0/33"}));
  EXPECT_FALSE(TrustedProxies::Parse({"10.0.0.0/x"}));
}

}  // namespace
}  // namespace vendo::server
