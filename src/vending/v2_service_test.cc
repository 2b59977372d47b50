// Protocol v2 without HTTP: signed requests (signature, timestamp window, single-use nonce),
// registration, sign-up and login, rotation and self-revocation, and what a store that is
// down turns each into. On an in-memory store and an injected clock.
#include "vending/v2_service.h"

#include <gtest/gtest.h>

#include <optional>

#include "common/random.h"
#include "protocol/timestamp.h"
#include "protocol/v2.h"
#include "testing/fake_issuer.h"
#include "testing/fake_store.h"
#include "testing/faulty_store.h"
#include "testing/fixed_clock.h"

namespace vendo::server {
namespace {

namespace v2 = protocol::v2;
using namespace std::chrono;

// 2026-11-24T08:47:27Z
const system_clock::time_point kNow = system_clock::from_time_t(1795337247);

class V2ServiceTest : public ::testing::Test {
 protected:
  App MakeApp(const std::string& name, protocol::legacy::Mode mode) {
    AppConfig c;
    c.name = name;
    c.mode = mode;
    c.policy = R"({"Statement":[]})";
    c.argon2 = {8192, 1, 1};
    return App{c, *policy::Template::Parse(c.policy), &issuer_, "", name};
  }

  // The Authorization header of a request signed with `secret` (base64url) at `when`.
  std::string Sign(const V2Registration& device, std::string_view path, std::string_view body,
                   system_clock::time_point when, std::string nonce = "") {
    if (nonce.empty()) {
      Bytes raw(v2::kNonceBytes);
      random_.Fill(raw);
      nonce = v2::Base64UrlEncode(raw);
    }
    std::string timestamp = protocol::IsoSeconds(when);
    auto secret = v2::Base64UrlDecode(device.device_secret);
    std::string signature = v2::Signature(
        *secret, v2::CanonicalRequest("POST", path, body, timestamp, nonce, device.device_id));
    return v2::FormatAuthorization({device.device_id, timestamp, nonce, signature});
  }

  V2Registration Register() {
    auto r = service_.RegisterDevice(anon_);
    EXPECT_TRUE(r) << r.error().message;
    return *r;
  }

  static constexpr std::string_view kToken = "/v2/apps/sensors/token";

  FixedClock clock_{kNow};
  OsRandom random_;
  testing::FakeStore memory_{clock_};
  testing::FaultyStore store_{memory_};
  testing::FakeIssuer issuer_{clock_};
  V2Service service_{store_, clock_, random_, seconds(300), 2};
  App anon_ = MakeApp("sensors", protocol::legacy::Mode::kAnonymous);
  App ident_ = MakeApp("people", protocol::legacy::Mode::kIdentity);
};

TEST_F(V2ServiceTest, ASignedTokenRequestIsAuthorizedOnceAndItsReplayRefused) {
  V2Registration device = Register();
  std::string auth = Sign(device, kToken, "", kNow);
  auto grant = service_.AuthorizeToken(anon_, "POST", kToken, "", auth);
  ASSERT_TRUE(grant) << grant.error().message;
  EXPECT_EQ(grant->request.device_id, device.device_id);
  EXPECT_EQ(grant->request.app, "sensors");
  EXPECT_FALSE(grant->answer.seal);

  auto replay = service_.AuthorizeToken(anon_, "POST", kToken, "", auth);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, V2Code::kReplayedRequest);
}

TEST_F(V2ServiceTest, WhatTheSignatureCoversCannotChange) {
  V2Registration device = Register();
  std::string auth = Sign(device, kToken, "", kNow);
  for (auto [path, body] :
       {std::pair<std::string_view, std::string_view>{kToken, R"({"seal":true})"},
        {"/v2/apps/sensors/rotate", ""}}) {
    auto r = service_.AuthorizeToken(anon_, "POST", path, body, auth);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, V2Code::kInvalidSignature) << path << " " << body;
  }
  V2Registration stranger{"d_0000000000000000000000000", device.device_secret};
  auto unknown =
      service_.AuthorizeToken(anon_, "POST", kToken, "", Sign(stranger, kToken, "", kNow));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, V2Code::kInvalidSignature);  // unknown looks like wrong
}

TEST_F(V2ServiceTest, ATimestampOutsideTheWindowStatesTheSkew) {
  V2Registration device = Register();
  auto late = service_.AuthorizeToken(anon_, "POST", kToken, "",
                                      Sign(device, kToken, "", kNow - seconds(301)));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, V2Code::kExpiredTimestamp);
  EXPECT_EQ(late.error().skew_seconds, -301);
  auto edge = service_.AuthorizeToken(anon_, "POST", kToken, "",
                                      Sign(device, kToken, "", kNow + seconds(300)));
  EXPECT_TRUE(edge) << edge.error().message;
}

TEST_F(V2ServiceTest, TheAppsShorterWindowHoldsAndItsNoncesAreKeptForItOnly) {
  anon_.config.timestamp_window = seconds(2);
  V2Registration device = Register();
  auto late = service_.AuthorizeToken(anon_, "POST", kToken, "",
                                      Sign(device, kToken, "", kNow - seconds(3)));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, V2Code::kExpiredTimestamp);
  // A long run, a request every 100 ms for 100 s: the counters hold about the last 4 s (both
  // sides of the window) of nonces, never all of them.
  std::size_t most = 0;
  for (int i = 0; i < 1000; ++i) {
    clock_.Advance(milliseconds(100));
    ASSERT_TRUE(
        service_.AuthorizeToken(anon_, "POST", kToken, "", Sign(device, kToken, "", clock_.Now())));
    if (i % 10 == 9) {
      ASSERT_TRUE(memory_.PurgeExpiredCounters());  // what the stores do once a minute
      most = std::max(most, memory_.CounterRows());
    }
  }
  EXPECT_LE(most, 41u);
  EXPECT_GE(most, 30u);
}

TEST_F(V2ServiceTest, AStoreThatIsDownIsUnavailableNeverABadSignature) {
  V2Registration device = Register();
  store_.FailReads();
  auto r = service_.AuthorizeToken(anon_, "POST", kToken, "", Sign(device, kToken, "", kNow));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, V2Code::kIssuerUnavailable);
  EXPECT_GT(r.error().retry_after, 0);

  store_.Heal();
  store_.FailWrites();  // the nonce cannot be recorded: the request is not served
  r = service_.AuthorizeToken(anon_, "POST", kToken, "", Sign(device, kToken, "", kNow));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, V2Code::kIssuerUnavailable);
  auto registration = service_.RegisterDevice(anon_);
  ASSERT_FALSE(registration);
  EXPECT_EQ(registration.error().code, V2Code::kIssuerUnavailable);
  EXPECT_EQ(*memory_.CountDevices("sensors"), 1);  // nothing half-made
}

TEST_F(V2ServiceTest, SignUpThenLoginBindsANewDeviceToTheUser) {
  auto allow = [](std::string_view) -> Status { return {}; };
  std::string body = R"({"username":"ann","password":"correct horse"})";
  auto user = service_.SignUp(ident_, body);
  ASSERT_TRUE(user) << user.error().message;
  auto again = service_.SignUp(ident_, body);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, V2Code::kUsernameTaken);

  std::string username;
  auto wrong =
      service_.Login(ident_, R"({"username":"ann","password":"wrong horse"})", username, allow);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, V2Code::kInvalidCredentials);
  EXPECT_EQ(username, "ann");

  auto login = service_.Login(ident_, body, username, allow);
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->user_id, *user);
  auto bound = memory_.FindDevice("people", login->device_id);
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->user_id, *user);

  // A lockout refuses before the password is checked, whatever the password.
  auto locked = service_.Login(ident_, body, username, [](std::string_view) -> Status {
    return std::unexpected(Error{ErrorCode::kResourceExhausted, "locked", seconds(60)});
  });
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, V2Code::kRateLimited);
  EXPECT_EQ(locked.error().retry_after, 60);
  // A lockout that cannot be checked (its store is down) is the store's failure, not a 429.
  auto unchecked = service_.Login(ident_, body, username, [](std::string_view) -> Status {
    return std::unexpected(Error{ErrorCode::kUnavailable, "store down"});
  });
  ASSERT_FALSE(unchecked);
  EXPECT_EQ(unchecked.error().code, V2Code::kIssuerUnavailable);
}

TEST_F(V2ServiceTest, ARotatedSecretReplacesTheOldOne) {
  V2Registration device = Register();
  const std::string_view rotate = "/v2/apps/sensors/rotate";
  auto fresh = service_.RotateSecret(anon_, "POST", rotate, "", Sign(device, rotate, "", kNow));
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->device_id, device.device_id);
  auto old = service_.AuthorizeToken(anon_, "POST", kToken, "", Sign(device, kToken, "", kNow));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code, V2Code::kInvalidSignature);
  EXPECT_TRUE(service_.AuthorizeToken(anon_, "POST", kToken, "", Sign(*fresh, kToken, "", kNow)));
}

TEST_F(V2ServiceTest, ARevocationWhoseAuditFailsRevokesNothing) {
  V2Registration device = Register();
  const std::string_view revoke = "/v2/apps/sensors/revoke";
  auto refused = service_.RevokeSelf(anon_, "POST", revoke, "", Sign(device, revoke, "", kNow),
                                     [](std::string_view) -> Status {
                                       return std::unexpected(Error{ErrorCode::kInternal, "disk"});
                                     });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, V2Code::kInternalError);
  EXPECT_FALSE(memory_.FindDevice("sensors", device.device_id)->revoked);

  auto revoked = service_.RevokeSelf(anon_, "POST", revoke, "", Sign(device, revoke, "", kNow),
                                     [](std::string_view) -> Status { return {}; });
  ASSERT_TRUE(revoked) << revoked.error().message;
  EXPECT_TRUE(memory_.FindDevice("sensors", device.device_id)->revoked);
  auto after = service_.AuthorizeToken(anon_, "POST", kToken, "", Sign(device, kToken, "", kNow));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, V2Code::kDeviceRevoked);
}

}  // namespace
}  // namespace vendo::server

namespace vendo::server {
namespace {

TEST(V2VendFailure, ALimitOverItsCountIs429AndALimitThatCannotCountIsTheStores) {
  V2Failure over = V2VendFailure(
      {VendStep::kLimit, Error{ErrorCode::kResourceExhausted, "over", std::chrono::seconds(7)}});
  EXPECT_EQ(over.code, V2Code::kRateLimited);
  EXPECT_EQ(over.retry_after, 7);
  EXPECT_EQ(V2VendFailure({VendStep::kLimit, Error{ErrorCode::kUnavailable, "down"}}).code,
            V2Code::kIssuerUnavailable);
  EXPECT_EQ(V2VendFailure({VendStep::kLimit, Error{ErrorCode::kInternal, "bug"}}).code,
            V2Code::kInternalError);
  EXPECT_EQ(V2VendFailure({VendStep::kAudit, Error{ErrorCode::kUnavailable, "disk"}}).code,
            V2Code::kInternalError);
}

}  // namespace
}  // namespace vendo::server
