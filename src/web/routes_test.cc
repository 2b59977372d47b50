// The routes of both protocols through the Router, as `vendo serve` wires them but in memory:
// which app and endpoint a path reaches, which status each failure becomes (a store that is
// down, an audit line that cannot be written, a replay, a foreign origin, a wrong media type),
// and that what could not be audited is not kept. Work for `blocking` runs inline.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>

#include "common/random.h"
#include "issuer/dev_issuer.h"
#include "metrics/metrics.h"
#include "protocol/timestamp.h"
#include "protocol/v2.h"
#include "testing/fake_store.h"
#include "testing/faulty_store.h"
#include "testing/fixed_clock.h"
#include "testing/recording_audit_sink.h"
#include "web/router.h"

namespace vendo::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono;
namespace v2 = protocol::v2;

struct InlineRunner final : TaskRunner {
  void Post(std::function<void()> task) override { task(); }
};

const std::string kUid = "0123456789abcdef0123456789abcdef";
const std::string kKey = "000102030405060708090a0b0c0d0e0f";

class RoutesTest : public ::testing::Test {
 protected:
  std::vector<std::unique_ptr<App>> MakeApps() {
    std::vector<std::unique_ptr<App>> apps;
    apps.push_back(MakeApp("sensors", protocol::legacy::Mode::kAnonymous));
    apps.push_back(MakeApp("people", protocol::legacy::Mode::kIdentity));
    apps[1]->config.allowed_origins = {"https://app.example.com"};
    return apps;
  }
  std::unique_ptr<App> MakeApp(const std::string& name, protocol::legacy::Mode mode) {
    AppConfig c;
    c.name = name;
    c.mode = mode;
    c.policy = R"({"Statement":[]})";
    c.allow_insecure_legacy = true;
    c.public_endpoint = "http://vendo.test/apps/" + name;
    c.argon2 = {8192, 1, 1};
    return std::make_unique<App>(
        App{c, *policy::Template::Parse(c.policy), &issuer_, "vendo.test/apps/" + name, name});
  }

  HttpResponse Send(std::string method, std::string target, std::string body = "",
                    std::string content_type = "", std::string authorization = "") {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    r.authorization = std::move(authorization);
    r.request_id = "req-1";
    r.client = "192.0.2.7";
    r.host = "vendo.test";
    std::optional<HttpResponse> got;
    router_.Handle(std::move(r), [&](HttpResponse response) { got = std::move(response); });
    EXPECT_TRUE(got.has_value()) << "no answer";
    return got.value_or(HttpResponse{});
  }
  HttpResponse Json(std::string method, std::string target, std::string body,
                    std::string authorization = "") {
    return Send(std::move(method), std::move(target), std::move(body), "application/json",
                std::move(authorization));
  }

  // A v2 device of "sensors", registered through the routes.
  std::pair<std::string, std::string> RegisterV2() {
    HttpResponse r = Json("POST", "/v2/apps/sensors/devices", "{}");
    EXPECT_EQ(r.status, 201) << r.body;
    auto doc = boost::json::parse(r.body).as_object();
    return {std::string(doc["device_id"].as_string()),
            std::string(doc["device_secret"].as_string())};
  }
  std::string SignV2(const std::pair<std::string, std::string>& device, std::string_view method,
                     std::string_view path, std::string_view body) {
    Bytes raw(v2::kNonceBytes);
    random_.Fill(raw);
    std::string nonce = v2::Base64UrlEncode(raw);
    std::string timestamp = protocol::IsoSeconds(clock_.Now());
    auto secret = v2::Base64UrlDecode(device.second);
    return v2::FormatAuthorization(
        {device.first, timestamp, nonce,
         v2::Signature(*secret,
                       v2::CanonicalRequest(method, path, body, timestamp, nonce, device.first))});
  }

  FixedClock clock_{system_clock::from_time_t(1795337247)};
  OsRandom random_;
  testing::FakeStore memory_{clock_};
  testing::FaultyStore store_{memory_};
  issuer::DevIssuer issuer_{clock_, random_};
  std::vector<std::unique_ptr<App>> apps_ = MakeApps();
  testing::RecordingAuditSink sink_;
  AuditLog audit_{sink_, clock_};
  metrics::NullRecorder recorder_;
  AuditTrail trail_{audit_, recorder_};
  Limiter limiter_{store_, clock_};
  Vend vend_{limiter_, trail_};
  LegacyService legacy_{store_, clock_, random_};
  V2Service v2_{store_, clock_, random_};
  Federation federation_{store_, clock_, random_};
  InlineRunner inline_;
  Router router_{apps_,   apps_[0].get(), legacy_,
                 v2_,     federation_,    store_,
                 nullptr, inline_,        RouteParts{inline_, trail_, vend_, limiter_, random_}};
};

TEST_F(RoutesTest, A2012RegistrationReachesItsAppAtTheRootAndUnderItsPrefix) {
  EXPECT_EQ(Send("GET", "/registerdevice?uid=" + kUid + "&key=" + kKey).status, 200);
  EXPECT_TRUE(memory_.FindDevice("sensors", kUid));
  // The same uid again, under the app's own prefix: 409 as in 2012.
  EXPECT_EQ(Send("POST", "/apps/sensors/registerdevice?uid=" + kUid + "&key=" + kKey).status, 409);
  EXPECT_EQ(Send("GET", "/apps/nosuch/registerdevice?uid=" + kUid + "&key=" + kKey).status, 404);
  EXPECT_EQ(Send("GET", "/nosuchendpoint").status, 404);
  ASSERT_EQ(sink_.writes.size(), 2u);  // the registration, and the refusal of the second
  EXPECT_THAT(sink_.writes[0], HasSubstr(kUid));
  EXPECT_THAT(sink_.writes[0], HasSubstr(R"("outcome":"ok")"));
  EXPECT_THAT(sink_.writes[1], HasSubstr(R"("outcome":"already_exists")"));
}

TEST_F(RoutesTest, A2012RegistrationThatCannotBeAuditedIsRefusedAndNotKept) {
  sink_.fail = true;
  HttpResponse r = Send("GET", "/registerdevice?uid=" + kUid + "&key=" + kKey);
  EXPECT_EQ(r.status, 500);
  EXPECT_FALSE(memory_.FindDevice("sensors", kUid));  // taken back: the uid is free again
  sink_.fail = false;
  EXPECT_EQ(Send("GET", "/registerdevice?uid=" + kUid + "&key=" + kKey).status, 200);
}

TEST_F(RoutesTest, A2012StoreThatIsDownAnswers500AsOldClientsExpect) {
  store_.FailWrites();
  EXPECT_EQ(Send("GET", "/registerdevice?uid=" + kUid + "&key=" + kKey).status, 500);
  store_.Heal();
  store_.FailReads();
  EXPECT_EQ(Send("GET", "/gettoken?uid=" + kUid +
                            "&timestamp=" + protocol::IsoMillis(clock_.Now()) + "&signature=y")
                .status,
            500);
  for (const auto& line : sink_.writes) {
    EXPECT_THAT(line, Not(HasSubstr(R"("outcome":"ok")")));
  }
}

TEST_F(RoutesTest, A2012SignUpWhoseLimitCannotBeCountedIsAServerErrorNotATooMany) {
  const std::string form = "/apps/people/registeruser?username=ann&password=secret123";
  store_.FailWrites();
  HttpResponse down = Send("POST", form);
  EXPECT_EQ(down.status, 500) << down.body;
  store_.Heal();
  EXPECT_EQ(Send("POST", form).status, 200);
  EXPECT_TRUE(memory_.FindUser("people", "ann"));
}

TEST_F(RoutesTest, AV2TokenIsVendedOnceAndItsReplayIs401) {
  auto device = RegisterV2();
  std::string auth = SignV2(device, "POST", "/v2/apps/sensors/token", "{}");
  HttpResponse first = Json("POST", "/v2/apps/sensors/token", "{}", auth);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_THAT(first.body, HasSubstr("AccessKeyId"));
  HttpResponse replay = Json("POST", "/v2/apps/sensors/token", "{}", auth);
  EXPECT_EQ(replay.status, 401);
  EXPECT_THAT(replay.body, HasSubstr("replayed_request"));
}

TEST_F(RoutesTest, AV2StoreThatIsDownIs503WithRetryAfter) {
  store_.FailWrites();
  HttpResponse r = Json("POST", "/v2/apps/sensors/devices", "{}");
  EXPECT_EQ(r.status, 503) << r.body;
  bool retry_after = false;
  for (const auto& [name, value] : r.headers) {
    retry_after = retry_after || (name == "Retry-After" && !value.empty());
  }
  EXPECT_TRUE(retry_after);
}

TEST_F(RoutesTest, V2RefusesAWrongMediaTypeAForeignPageAndTheWrongMode) {
  HttpResponse text = Send("POST", "/v2/apps/sensors/devices", "{}", "text/plain");
  EXPECT_EQ(text.status, 415) << text.body;
  HttpRequest foreign;
  foreign.method = "POST";
  foreign.target = "/v2/apps/people/users";
  foreign.body = R"({"username":"ann","password":"correct horse"})";
  foreign.content_type = "application/json";
  foreign.origin = "https://evil.example";
  foreign.client = "192.0.2.7";
  std::optional<HttpResponse> got;
  router_.Handle(foreign, [&](HttpResponse r) { got = std::move(r); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 403) << got->body;
  EXPECT_FALSE(memory_.FindUser("people", "ann"));
  // A sign-up on an anonymous app, a device registration on an identity app.
  EXPECT_EQ(Json("POST", "/v2/apps/sensors/users", foreign.body).status, 405);
  EXPECT_EQ(Json("POST", "/v2/apps/people/devices", "{}").status, 405);
  EXPECT_EQ(Json("POST", "/v2/apps/nosuch/devices", "{}").status, 404);
}

}  // namespace
}  // namespace vendo::server
