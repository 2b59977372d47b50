#include "issuer/caching_issuer.h"

#include <gtest/gtest.h>

#include <thread>

#include "testing/error_is.h"
#include "testing/fake_issuer.h"
#include "testing/fixed_clock.h"

namespace vendo::issuer {
namespace {

using namespace std::chrono;

using testing::ErrorIs;
using testing::FakeIssuer;
using ::testing::Optional;

IssueRequest Req(std::string device, std::string policy = "{}", seconds duration = hours(24)) {
  IssueRequest r;
  r.app = "app";
  r.device_id = std::move(device);
  r.policy = std::move(policy);
  r.duration = duration;
  return r;
}

class CachingIssuerTest : public ::testing::Test {
 protected:
  // The answer if it came at once; a late answer (after the fake issuer completes) lands in
  // shared state that outlives this call.
  std::optional<Result<Credentials>> Ask(IssueRequest r) {
    auto got = std::make_shared<std::optional<Result<Credentials>>>();
    cache_.Issue(std::move(r), [got](Result<Credentials> c) { *got = std::move(c); });
    return *got;
  }

  FixedClock clock_{system_clock::time_point(seconds(1'700'000'000))};
  FakeIssuer fake_{clock_};
  OsRandom random_;
  CachingIssuer cache_{fake_, clock_, random_, 3};
};

TEST_F(CachingIssuerTest, ReusesUntilTheRefreshMargin) {
  EXPECT_FALSE(Ask(Req("d1")).has_value());  // waiting for the issuer
  fake_.CompleteAll();
  auto first = Ask(Req("d1"));
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->access_key_id, "AKID1");
  EXPECT_EQ(fake_.calls(), 1u);
  clock_.Advance(hours(24) - minutes(15) - seconds(1));  // just before the margin
  EXPECT_EQ((*Ask(Req("d1")))->access_key_id, "AKID1");
  clock_.Advance(seconds(1));  // 15 minutes before expiry: refresh
  EXPECT_FALSE(Ask(Req("d1")).has_value());
  fake_.CompleteAll();
  EXPECT_EQ((*Ask(Req("d1")))->access_key_id, "AKID2");
  EXPECT_EQ(fake_.calls(), 2u);
  auto stats = cache_.Stats();
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.hits, 3u);
}

TEST_F(CachingIssuerTest, ShortLifetimesUseAFifthAsTheMargin) {
  EXPECT_EQ(CachingIssuer::RefreshMargin(hours(1)), minutes(12));
  EXPECT_EQ(CachingIssuer::RefreshMargin(hours(24)), minutes(15));
  EXPECT_EQ(CachingIssuer::RefreshMargin(seconds(900)), seconds(180));
}

TEST_F(CachingIssuerTest, KeysSeparatePrincipalsPoliciesAndApps) {
  IssueRequest user = Req("d1");
  user.username = "alice";
  IssueRequest other_app = Req("d1");
  other_app.app = "other";
  IssueRequest other_role = Req("d1");  // a claim rule's role
  other_role.role_arn = "arn:aws:iam::123456789012:role/admins";
  for (const auto& r : {Req("d1"), Req("d2"), Req("d1", R"({"x":1})"), user, other_app,
                        Req("d1", "{}", hours(1)), other_role}) {
    Ask(r);
  }
  EXPECT_EQ(fake_.calls(), 7u);
  // A user's devices share the user's credentials, unless the issuer tags each device.
  IssueRequest same_user = Req("d9");
  same_user.username = "alice";
  EXPECT_EQ(CachingIssuer::KeyOf(user, false), CachingIssuer::KeyOf(same_user, false));
  EXPECT_NE(CachingIssuer::KeyOf(user, true), CachingIssuer::KeyOf(same_user, true));
}

TEST_F(CachingIssuerTest, KeysUseThePolicyHashWhenGivenAndNeverMixTheTwoKinds) {
  IssueRequest plain = Req("d1", R"({"x":1})");
  IssueRequest hashed = plain;
  hashed.policy_sha256 = "5d1b";
  EXPECT_NE(CachingIssuer::KeyOf(plain, false), CachingIssuer::KeyOf(hashed, false));
  EXPECT_EQ(CachingIssuer::KeyOf(hashed, false).find(hashed.policy), std::string::npos);
  IssueRequest other_hash = hashed;
  other_hash.policy_sha256 = "9e07";
  EXPECT_NE(CachingIssuer::KeyOf(hashed, false), CachingIssuer::KeyOf(other_hash, false));
  // A policy that spells a hash key cannot meet it.
  IssueRequest lookalike = Req("d1", "h:5d1b");
  EXPECT_NE(CachingIssuer::KeyOf(lookalike, false), CachingIssuer::KeyOf(hashed, false));
}

TEST_F(CachingIssuerTest, ConcurrentRequestsShareOneCall) {
  CachingIssuer big(fake_, clock_, random_, 1000);
  constexpr int kCallers = 200;
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  threads.reserve(kCallers);
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&] {
      big.Issue(Req("busy-device"), [&](Result<Credentials> c) {
        EXPECT_TRUE(c.has_value());
        answered.fetch_add(1);
      });
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(fake_.calls(), 1u);
  EXPECT_EQ(answered.load(), 0);
  fake_.CompleteAll();
  EXPECT_EQ(answered.load(), kCallers);
  EXPECT_EQ(big.Stats().shared, static_cast<std::uint64_t>(kCallers - 1));
}

TEST_F(CachingIssuerTest, FailuresServeValidCachedCredentialsOtherwiseTheError) {
  Ask(Req("d1"));
  fake_.CompleteAll();
  clock_.Advance(hours(24) - minutes(10));  // inside the margin, still valid
  auto pending = std::make_shared<std::optional<Result<Credentials>>>();
  cache_.Issue(Req("d1"), [pending](Result<Credentials> c) { *pending = std::move(c); });
  fake_.CompleteAll(/*fail=*/true);
  ASSERT_TRUE(pending->has_value() && pending->value().has_value());
  EXPECT_EQ((*pending)->value().access_key_id, "AKID1");
  EXPECT_EQ(cache_.Stats().served_stale, 1u);

  clock_.Advance(minutes(11));  // now expired: the error goes through
  cache_.Issue(Req("d1"), [pending](Result<Credentials> c) { *pending = std::move(c); });
  fake_.CompleteAll(/*fail=*/true);
  EXPECT_THAT(*pending, Optional(ErrorIs(ErrorCode::kUnavailable)));
  EXPECT_EQ(cache_.Stats().issuer_errors, 2u);
}

TEST_F(CachingIssuerTest, AFailureIsRememberedPerPrincipalForAJitteredWhile) {
  CachingIssuer cache(fake_, clock_, random_, 1000, {milliseconds(1000), milliseconds(30000)});
  auto ask = [&](const char* device) {
    auto got = std::make_shared<std::optional<Result<Credentials>>>();
    cache.Issue(Req(device), [got](Result<Credentials> c) { *got = std::move(c); });
    return *got;
  };
  EXPECT_FALSE(ask("d1").has_value());
  fake_.CompleteAll(/*fail=*/true);
  EXPECT_EQ(fake_.calls(), 1u);
  for (int i = 0; i < 50; ++i) {  // a burst from the same principal: answered at once
    ASSERT_THAT(ask("d1"), Optional(ErrorIs(ErrorCode::kUnavailable)));
  }
  EXPECT_EQ(fake_.calls(), 1u);
  EXPECT_EQ(cache.Stats().failed_fast, 50u);
  EXPECT_FALSE(ask("d2").has_value());  // another principal still asks
  EXPECT_EQ(fake_.calls(), 2u);
  fake_.CompleteAll();
  clock_.Advance(milliseconds(1500));  // past the jittered [1 s, 1.5 s]: asks again
  EXPECT_FALSE(ask("d1").has_value());
  EXPECT_EQ(fake_.calls(), 3u);
  fake_.CompleteAll();
  ASSERT_TRUE(ask("d1").has_value());
  EXPECT_TRUE(ask("d1")->has_value());  // a success forgets the failure
}

TEST_F(CachingIssuerTest, ARefusalIsRememberedLonger) {
  CachingIssuer cache(fake_, clock_, random_, 1000, {milliseconds(1000), milliseconds(30000)});
  auto ask = [&] {
    auto got = std::make_shared<std::optional<Result<Credentials>>>();
    cache.Issue(Req("d1"), [got](Result<Credentials> c) { *got = std::move(c); });
    return *got;
  };
  ask();
  fake_.CompleteAll(/*fail=*/true, ErrorCode::kPermissionDenied);
  clock_.Advance(seconds(29));
  ASSERT_TRUE(ask().has_value());
  EXPECT_EQ(fake_.calls(), 1u);
  clock_.Advance(seconds(17));  // past 1.5 x 30 s
  EXPECT_FALSE(ask().has_value());
  EXPECT_EQ(fake_.calls(), 2u);
}

TEST_F(CachingIssuerTest, LifetimesFollowTheMonotonicClockNotTheWallClock) {
  Ask(Req("d1"));
  fake_.CompleteAll();
  // The wall clock is set back an hour (and later forward a day): the credentials are
  // neither kept longer nor dropped early.
  clock_.Set(clock_.Now() - hours(1));
  clock_.Advance(hours(24) - minutes(15) - seconds(1));
  EXPECT_EQ((*Ask(Req("d1")))->access_key_id, "AKID1");
  clock_.Advance(seconds(1));  // the refresh margin, by monotonic time
  EXPECT_FALSE(Ask(Req("d1")).has_value());
  fake_.CompleteAll();
  EXPECT_EQ((*Ask(Req("d1")))->access_key_id, "AKID2");
  clock_.Set(clock_.Now() + hours(24));  // forward a day: still fresh
  EXPECT_EQ((*Ask(Req("d1")))->access_key_id, "AKID2");
}

TEST_F(CachingIssuerTest, MemoryIsBoundedAndCallsInFlightAreKept) {
  for (int i = 0; i < 10; ++i) {
    std::string device = "d";
    device.append(std::to_string(i));
    Ask(Req(device));
  }
  EXPECT_EQ(cache_.SizeForTest(), 10u);  // all in flight: none may go
  fake_.CompleteAll();
  Ask(Req("new"));  // one more in flight; the least recently used finished ones go
  EXPECT_LE(cache_.SizeForTest(), 3u);
  fake_.CompleteAll();
  EXPECT_TRUE(Ask(Req("new")).has_value());  // the most recent entry survived
}

}  // namespace
}  // namespace vendo::issuer
