// GrantFor: what a device that proved itself may be given, and each refusal's typed reason
// (revoked, too old, no user, user gone, user disabled), on an in-memory store.
#include "vending/grant.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/hash.h"
#include "testing/error_is.h"
#include "testing/fake_issuer.h"
#include "testing/fake_store.h"
#include "testing/fixed_clock.h"

namespace vendo::server {
namespace {

using namespace std::chrono;
using testing::ErrorIs;
using ::testing::HasSubstr;

class GrantTest : public ::testing::Test {
 protected:
  App MakeApp(protocol::legacy::Mode mode) {
    AppConfig c;
    c.name = mode == protocol::legacy::Mode::kIdentity ? "photos" : "sensors";
    c.mode = mode;
    c.duration = seconds(900);
    c.policy = R"({"Resource":"arn:aws:s3:::b/${uid}/${username}/*"})";
    return App{c, *policy::Template::Parse(c.policy), &issuer_, "", c.name};
  }
  store::DeviceRecord Device(std::string uid, std::optional<std::string> user_id = std::nullopt) {
    return store::DeviceRecord{"",
                               std::move(uid),
                               SecretString("k"),
                               std::move(user_id),
                               system_clock::to_time_t(clock_.Now()),
                               false,
                               {}};
  }
  static ErrorReason ReasonOf(const Result<issuer::IssueRequest>& r) {
    return r ? ErrorReason::kNone : r.error().reason;
  }

  FixedClock clock_{system_clock::from_time_t(1795337247)};
  testing::FakeStore store_{clock_};
  testing::FakeIssuer issuer_{clock_};
  App anon_ = MakeApp(protocol::legacy::Mode::kAnonymous);
  App ident_ = MakeApp(protocol::legacy::Mode::kIdentity);
};

TEST_F(GrantTest, AnAnonymousDeviceGetsItsRenderedPolicyNameAndDuration) {
  auto r = GrantFor(anon_, Device("dev-1"), store_, clock_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->app, "sensors");
  EXPECT_EQ(r->device_id, "dev-1");
  EXPECT_FALSE(r->username.has_value());
  EXPECT_EQ(r->session_name, "dev-1");
  EXPECT_EQ(r->duration, seconds(900));
  EXPECT_THAT(r->policy, HasSubstr("b/dev-1//*"));
  EXPECT_EQ(r->policy_sha256, policy::PolicyHash(r->policy));
  // The rendering is cached per principal: the same device gets the same text again.
  auto again = GrantFor(anon_, Device("dev-1"), store_, clock_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->policy, r->policy);
}

TEST_F(GrantTest, ARevokedOrTooOldDeviceIsRefusedWithItsReason) {
  store::DeviceRecord revoked = Device("dev-1");
  revoked.revoked = true;
  auto r = GrantFor(anon_, revoked, store_, clock_);
  EXPECT_THAT(r, ErrorIs(ErrorCode::kPermissionDenied));
  EXPECT_EQ(ReasonOf(r), ErrorReason::kDeviceRevoked);

  App strict = anon_;
  strict.config.max_device_age = hours(24);
  store::DeviceRecord old = Device("dev-2");
  EXPECT_TRUE(GrantFor(strict, old, store_, clock_));
  clock_.Advance(hours(25));
  auto expired = GrantFor(strict, old, store_, clock_);
  EXPECT_THAT(expired, ErrorIs(ErrorCode::kPermissionDenied));
  EXPECT_EQ(ReasonOf(expired), ErrorReason::kDeviceExpired);
}

TEST_F(GrantTest, AnIdentityDeviceNeedsItsUserPresentAndEnabled) {
  auto none = GrantFor(ident_, Device("dev-1"), store_, clock_);
  EXPECT_EQ(ReasonOf(none), ErrorReason::kNoUser);
  auto gone = GrantFor(ident_, Device("dev-1", "u-1"), store_, clock_);
  EXPECT_EQ(ReasonOf(gone), ErrorReason::kUserGone);

  ASSERT_TRUE(store_.CreateUser("photos", "alice", "u-1", SecretString("hash")));
  auto ok = GrantFor(ident_, Device("dev-1", "u-1"), store_, clock_);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->username, "alice");
  EXPECT_EQ(ok->session_name, "alice");
  EXPECT_THAT(ok->policy, HasSubstr("b/dev-1/alice/*"));

  ASSERT_TRUE(store_.SetUserEnabled("photos", "alice", false));
  auto disabled = GrantFor(ident_, Device("dev-1", "u-1"), store_, clock_);
  EXPECT_THAT(disabled, ErrorIs(ErrorCode::kPermissionDenied));
  EXPECT_EQ(ReasonOf(disabled), ErrorReason::kUserDisabled);
}

TEST_F(GrantTest, AValueThatCouldWidenThePolicyIsRefusedNotRendered) {
  auto r = GrantFor(anon_, Device("dev*"), store_, clock_);
  EXPECT_THAT(r, ErrorIs(ErrorCode::kPermissionDenied));
}

}  // namespace
}  // namespace vendo::server
