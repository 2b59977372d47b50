// The abuse limits and a login attempt's place in them, on a real SQLite store (the counts
// that must hold across hosts live there) with an injected clock.
#include "vending/limits.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "crypto/secret_box.h"
#include "store/sqlite_store.h"
#include "testing/error_is.h"
#include "testing/fixed_clock.h"
#include "testing/temp_dir.h"

using vendo::testing::ErrorIs;

namespace vendo::server {
namespace {

using namespace std::chrono;

class LimitsTest : public ::testing::Test {
 protected:
  LimitsTest() {
    AppConfig c;
    c.name = "photos";
    c.mode = protocol::legacy::Mode::kIdentity;
    c.policy = R"({"Statement":[]})";
    c.limits.registrations_per_address_per_hour = 2;
    c.limits.failed_logins_per_user = 2;
    c.limits.failed_logins_per_address_per_hour = 100;
    c.limits.tokens_per_device_per_minute = 3;
    app_.emplace(App{c, *policy::Template::Parse(c.policy), nullptr, "", "photos"});
  }
  const LimitsConfig& limits() const { return app_->config.limits; }

  // One login attempt by `address` with the wrong password (or the right one).
  Status TryLogin(std::string_view user, bool right, std::string_view address = "192.0.2.1") {
    LoginAttempt attempt(limiter_, *app_, address);
    VENDO_RETURN_IF_ERROR(attempt.Start(user));
    attempt.Finish(right ? LoginAttempt::Outcome::kSucceeded
                         : LoginAttempt::Outcome::kWrongPassword);
    return {};
  }

  ::vendo::testing::TempDir dir_;
  FixedClock clock_{system_clock::time_point{} + hours(24 * 365 * 50)};
  OsRandom random_;
  crypto::SecretBox box_{SecretString(std::string(32, 'k')), random_};
  std::unique_ptr<store::SqliteStore> store_ =
      std::move(*store::SqliteStore::Open({dir_.File("db"), 16}, box_, clock_));
  Limiter limiter_{*store_, clock_};
  std::optional<App> app_;
};

TEST_F(LimitsTest, TokensPerDeviceRefuseWithTheSecondsUntilTheWindowEnds) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter_.Token("photos", "dev-1", limits()));
  }
  clock_.Advance(seconds(20));
  auto refused = limiter_.Token("photos", "dev-1", limits());
  EXPECT_THAT(refused, ErrorIs(ErrorCode::kResourceExhausted));
  EXPECT_EQ(refused.error().retry_after, seconds(40));
  EXPECT_TRUE(limiter_.Token("photos", "dev-2", limits()));  // another device has its own
  clock_.Advance(seconds(40));
  EXPECT_TRUE(limiter_.Token("photos", "dev-1", limits()));  // a new window
}

TEST_F(LimitsTest, FailedIdTokensPerAddressStopTheAddressButNotOthersOrLoopback) {
  LimitsConfig c = limits();
  c.failed_tokens_per_address_per_minute = 2;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(limiter_.IdTokenCheck("photos", "192.0.2.7", c));
    limiter_.IdTokenFailed("photos", "192.0.2.7", c);
  }
  clock_.Advance(seconds(15));
  auto refused = limiter_.IdTokenCheck("photos", "192.0.2.7", c);
  EXPECT_THAT(refused, ErrorIs(ErrorCode::kResourceExhausted));
  EXPECT_EQ(refused.error().retry_after, seconds(45));
  EXPECT_TRUE(limiter_.IdTokenCheck("photos", "192.0.2.8", c));  // another address
  EXPECT_TRUE(limiter_.IdTokenCheck("albums", "192.0.2.7", c));  // another app
  EXPECT_TRUE(limiter_.Token("photos", "192.0.2.7", c));         // not the device count
  for (int i = 0; i < 5; ++i) {
    limiter_.IdTokenFailed("photos", "127.0.0.1", c);
  }
  EXPECT_TRUE(limiter_.IdTokenCheck("photos", "127.0.0.1", c));
  clock_.Advance(seconds(45));
  EXPECT_TRUE(limiter_.IdTokenCheck("photos", "192.0.2.7", c));  // a new window
  c.failed_tokens_per_address_per_minute = 0;                    // no limit
  for (int i = 0; i < 5; ++i) {
    limiter_.IdTokenFailed("photos", "192.0.2.9", c);
  }
  EXPECT_TRUE(limiter_.IdTokenCheck("photos", "192.0.2.9", c));
}

TEST_F(LimitsTest, RegistrationsPerAddressButNeverForLoopback) {
  EXPECT_TRUE(limiter_.Registration("photos", "192.0.2.9", limits()));
  EXPECT_TRUE(limiter_.Registration("photos", "192.0.2.9", limits()));
  auto refused = limiter_.Registration("photos", "192.0.2.9", limits());
  EXPECT_THAT(refused, ErrorIs(ErrorCode::kResourceExhausted));
  EXPECT_GT(refused.error().retry_after, seconds(3500));
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(limiter_.Registration("photos", "127.0.0.1", limits()));
  }
}

TEST_F(LimitsTest, WrongPasswordsLockTheUserEvenForTheRightOne) {
  EXPECT_TRUE(TryLogin("ann", false));
  EXPECT_TRUE(TryLogin("ann", false));
  auto locked = TryLogin("ann", true);
  EXPECT_THAT(locked, ErrorIs(ErrorCode::kResourceExhausted));
  EXPECT_GT(locked.error().retry_after, seconds(0));
  EXPECT_TRUE(TryLogin("bob", true));  // another user is not locked
  clock_.Advance(kLoginLockWindow);
  EXPECT_TRUE(TryLogin("ann", true));  // the window is over
}

TEST_F(LimitsTest, ASuccessOrAnAttemptNeverCheckedDoesNotCountAsAFailure) {
  EXPECT_TRUE(TryLogin("cy", false));
  EXPECT_TRUE(TryLogin("cy", true));  // the user starts over
  EXPECT_TRUE(TryLogin("cy", false));
  for (int i = 0; i < 5; ++i) {  // e.g. a stale timestamp: taken back each time
    LoginAttempt attempt(limiter_, *app_, "192.0.2.1");
    ASSERT_TRUE(attempt.Start("cy"));
    attempt.Finish(LoginAttempt::Outcome::kNotChecked);
  }
  EXPECT_TRUE(TryLogin("cy", false));  // the second failure: still allowed
  EXPECT_THAT(TryLogin("cy", true), ErrorIs(ErrorCode::kResourceExhausted));
}

}  // namespace
}  // namespace vendo::server
