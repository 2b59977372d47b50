#include "net/url.h"

#include <gtest/gtest.h>

namespace vendo::net {
namespace {

TEST(ParseHttpUrl, DefaultsThePortByScheme) {
  auto https = ParseHttpUrl("https://sts.eu-west-1.amazonaws.com");
  ASSERT_TRUE(https);
  EXPECT_TRUE(https->tls);
  EXPECT_EQ(https->host, "sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->path_and_query, "/");
  auto http = ParseHttpUrl("http://127.0.0.1:9000/sts?x=1");
  ASSERT_TRUE(http);
  EXPECT_FALSE(http->tls);
  EXPECT_EQ(http->port, 9000);
  EXPECT_EQ(http->path_and_query, "/sts?x=1");
}

TEST(ParseHttpUrl, UnbracketsIpv6) {
  auto url = ParseHttpUrl("http://[::1]:8080/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_TRUE(IsLoopbackHost(url->host));
}

TEST(ParseHttpUrl, RejectsWhatIsNotAnHttpEndpoint) {
  for (const char* bad : {"sts.amazonaws.com", "ftp://x/", "https://user:pw@x/", "https://:443/",
                          "http://x:0/", "http://x:99999/"}) {
    EXPECT_FALSE(ParseHttpUrl(bad)) << bad;
  }
}

TEST(IsLoopbackHost, KnowsLoopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("169.254.170.2"));
  EXPECT_FALSE(IsLoopbackHost("example.com"));
}

}  // namespace
}  // namespace vendo::net
