#include "issuer/dev_issuer.h"

#include <gtest/gtest.h>

#include "testing/fixed_clock.h"

namespace vendo::issuer {
namespace {

TEST(DevIssuer, MintsMarkedCredentialsWithTheRequestedDuration) {
  FixedClock clock(std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)));
  OsRandom random;
  DevIssuer issuer(clock, random);
  IssueRequest req;
  req.duration = std::chrono::seconds(900);
  std::optional<Result<Credentials>> got;
  issuer.Issue(req, [&](Result<Credentials> r) { got = std::move(r); });
  ASSERT_TRUE(got.has_value() && got->has_value());
  const Credentials& c = **got;
  EXPECT_TRUE(c.access_key_id.starts_with("VDEV"));
  EXPECT_EQ(c.access_key_id.size(), 20u);
  EXPECT_EQ(c.secret_access_key.size(), 40u);
  EXPECT_TRUE(c.session_token.starts_with("vendo-dev/"));
  EXPECT_EQ(c.expiration, clock.Now() + std::chrono::seconds(900));
  std::optional<Result<Credentials>> second;
  issuer.Issue(req, [&](Result<Credentials> r) { second = std::move(r); });
  EXPECT_NE((**second).access_key_id, c.access_key_id);
}

}  // namespace
}  // namespace vendo::issuer
