#include "sts/credential_provider.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "sts/sts_xml.h"
#include "testing/error_is.h"
#include "testing/fixed_clock.h"
#include "testing/temp_dir.h"

using vendo::testing::ErrorIs;

namespace vendo::sts {
namespace {

using namespace std::chrono_literals;

// Answers by "METHOD path"; records every call.
class FakeTransport final : public net::HttpTransport {
 public:
  std::map<std::string, Result<net::HttpReply>> replies;
  std::vector<net::HttpCall> calls;
  void Send(net::HttpCall call, std::function<void(Result<net::HttpReply>)> done) override {
    std::string key = call.method + " " + call.path;
    calls.push_back(std::move(call));
    auto it = replies.find(key);
    done(it != replies.end() ? it->second
                             : Result<net::HttpReply>(Fail(ErrorCode::kUnavailable, "no route")));
  }
};

net::HttpReply Ok(std::string body) { return net::HttpReply{200, std::move(body), {}}; }

constexpr const char* kJson =
    R"({"Code":"Success","AccessKeyId":"ASIAMETA","SecretAccessKey":"metasecret",)"
    R"("Token":"metatoken","Expiration":"2026-11-24T12:00:00Z"})";

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it != vars.end() ? std::optional<std::string>(it->second) : std::nullopt;
  };
}

Result<CallerCredentials> FetchNow(CredentialProvider& p) {
  std::optional<Result<CallerCredentials>> out;
  p.Fetch([&out](Result<CallerCredentials> r) { out = std::move(r); });
  EXPECT_TRUE(out.has_value()) << "the fake transport completes synchronously";
  return out.value_or(Fail(ErrorCode::kInternal, "no answer"));
}

TEST(EnvironmentProvider, ReadsTheStandardVariables) {
  EnvironmentProvider p(Env({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                             {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                             {"AWS_SESSION_TOKEN", "envtoken"}}));
  auto c = FetchNow(p);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->signing.access_key_id, "AKIAENV");
  EXPECT_EQ(c->signing.secret_access_key.Reveal(), "envsecret");
  EXPECT_EQ(c->signing.session_token, "envtoken");
  EXPECT_FALSE(c->expiration);
  EnvironmentProvider half(Env({{"AWS_ACCESS_KEY_ID", "AKIAENV"}}));
  EXPECT_THAT(FetchNow(half), ErrorIs(ErrorCode::kNotFound));
}

class SharedFiles : public ::testing::Test {
 protected:
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.File(name)) << text;
  }
  EnvLookup FilesEnv(std::map<std::string, std::string> extra = {}) {
    extra["AWS_SHARED_CREDENTIALS_FILE"] = dir_.File("credentials");
    extra["AWS_CONFIG_FILE"] = dir_.File("config");
    return Env(extra);
  }
  testing::TempDir dir_;
};

TEST_F(SharedFiles, ReadsTheProfileFromTheCredentialsFile) {
  Write("credentials",
        "# comment\n[default]\naws_access_key_id = AKIADEF\naws_secret_access_key = defsecret\n"
        "\n[vendo]\naws_access_key_id=AKIAVENDO\naws_secret_access_key=vendosecret\n");
  SharedFilesProvider def(FilesEnv(), "");
  EXPECT_EQ(FetchNow(def)->signing.access_key_id, "AKIADEF");
  SharedFilesProvider named(FilesEnv(), "vendo");
  auto c = FetchNow(named);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->signing.access_key_id, "AKIAVENDO");
  EXPECT_EQ(c->source, "profile vendo");
  SharedFilesProvider from_env(FilesEnv({{"AWS_PROFILE", "vendo"}}), "");
  EXPECT_EQ(FetchNow(from_env)->signing.access_key_id, "AKIAVENDO");
}

TEST_F(SharedFiles, FallsBackToTheConfigFileProfileSection) {
  Write("credentials", "[other]\naws_access_key_id = X\naws_secret_access_key = Y\n");
  Write("config",
        "[profile vendo]\nregion = eu-west-1\naws_access_key_id = AKIACFG\n"
        "aws_secret_access_key = cfgsecret\naws_session_token = cfgtoken\n");
  SharedFilesProvider p(FilesEnv(), "vendo");
  auto c = FetchNow(p);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->signing.access_key_id, "AKIACFG");
  EXPECT_EQ(c->signing.session_token, "cfgtoken");
}

TEST_F(SharedFiles, AMissingProfileIsNotFound) {
  Write("credentials", "[default]\naws_access_key_id = X\naws_secret_access_key = Y\n");
  SharedFilesProvider p(FilesEnv(), "nope");
  auto c = FetchNow(p);
  ASSERT_FALSE(c);
  EXPECT_THAT(c, ErrorIs(ErrorCode::kNotFound));
  EXPECT_NE(c.error().message.find("profile nope"), std::string::npos);
}

TEST(ContainerProvider, CallsTheAgentWithTheRelativeUri) {
  FakeTransport t;
  t.replies["GET /v2/credentials/abc"] = Ok(kJson);
  ContainerProvider p(t, Env({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}}));
  auto c = FetchNow(p);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(t.calls[0].host, "169.254.170.2");
  EXPECT_FALSE(t.calls[0].tls);
  EXPECT_EQ(c->signing.access_key_id, "ASIAMETA");
  EXPECT_EQ(c->signing.session_token, "metatoken");
  ASSERT_TRUE(c->expiration);
  EXPECT_EQ(*c->expiration, ParseIsoTimestamp("2026-11-24T12:00:00Z").value());
}

TEST(ContainerProvider, SendsTheAuthorizationTokenToAFullUri) {
  testing::TempDir dir;
  std::ofstream(dir.File("token")) << "pod-token\n";
  FakeTransport t;
  t.replies["GET /creds"] = Ok(kJson);
  ContainerProvider p(t,
                      Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:51679/creds"},
                           {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir.File("token")}}));
  ASSERT_TRUE(FetchNow(p));
  EXPECT_EQ(t.calls[0].port, 51679);
  ASSERT_EQ(t.calls[0].headers.size(), 1u);
  EXPECT_EQ(t.calls[0].headers[0],
            (std::pair<std::string, std::string>{"Authorization", "pod-token"}));
}

TEST(ContainerProvider, RefusesPlainHttpToAnotherHost) {
  FakeTransport t;
  ContainerProvider p(t, Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.5/creds"}}));
  auto c = FetchNow(p);
  ASSERT_FALSE(c);
  EXPECT_THAT(c, ErrorIs(ErrorCode::kInvalidArgument));
  EXPECT_TRUE(t.calls.empty());
}

TEST(InstanceMetadataProvider, UsesImdsV2Tokens) {
  FakeTransport t;
  t.replies["PUT /latest/api/token"] = Ok("imds-session-token");
  t.replies["GET /latest/meta-data/iam/security-credentials/"] = Ok("vendo-host-role\n");
  t.replies["GET /latest/meta-data/iam/security-credentials/vendo-host-role"] = Ok(kJson);
  InstanceMetadataProvider p(t, Env({}));
  auto c = FetchNow(p);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->source, "imds role vendo-host-role");
  ASSERT_EQ(t.calls.size(), 3u);
  EXPECT_EQ(t.calls[0].host, "169.254.169.254");
  EXPECT_EQ(t.calls[0].headers[0].first, "X-aws-ec2-metadata-token-ttl-seconds");
  for (int i : {1, 2}) {
    EXPECT_EQ(t.calls[i].headers[0], (std::pair<std::string, std::string>{
                                         "X-aws-ec2-metadata-token", "imds-session-token"}));
  }
}

TEST(InstanceMetadataProvider, NotOnEc2IsNotFound) {
  FakeTransport t;  // nothing answers
  InstanceMetadataProvider p(t, Env({}));
  EXPECT_THAT(FetchNow(p), ErrorIs(ErrorCode::kNotFound));
  InstanceMetadataProvider off(t, Env({{"AWS_EC2_METADATA_DISABLED", "true"}}));
  t.calls.clear();
  EXPECT_THAT(FetchNow(off), ErrorIs(ErrorCode::kNotFound));
  EXPECT_TRUE(t.calls.empty());
}

TEST(InstanceMetadataProvider, AFailedRoleFetchIsAnError) {
  FakeTransport t;
  t.replies["PUT /latest/api/token"] = Ok("tok");
  t.replies["GET /latest/meta-data/iam/security-credentials/"] = Ok("r");
  t.replies["GET /latest/meta-data/iam/security-credentials/r"] =
      Ok(R"({"Code":"AssumeRoleUnauthorizedAccess"})");
  InstanceMetadataProvider p(t, Env({}));
  auto c = FetchNow(p);
  ASSERT_FALSE(c);
  EXPECT_THAT(c, ErrorIs(ErrorCode::kUnavailable));
  EXPECT_NE(c.error().message.find("AssumeRoleUnauthorizedAccess"), std::string::npos);
}

TEST(ProviderChain, TakesTheFirstProviderThatHasCredentials) {
  FakeTransport t;
  t.replies["GET /v2/credentials/abc"] = Ok(kJson);
  auto chain = DefaultChain(t,
                            Env({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                                 {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                                 {"AWS_CONFIG_FILE", "/nonexistent"}}),
                            "");
  auto c = FetchNow(*chain);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->source, "ecs");
  EXPECT_EQ(t.calls.size(), 1u);  // IMDS never asked
}

TEST(ProviderChain, SaysWhatEachProviderFoundWhenNoneHasCredentials) {
  FakeTransport t;
  auto chain = DefaultChain(
      t,
      Env({{"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}, {"AWS_CONFIG_FILE", "/nonexistent"}}),
      "");
  auto c = FetchNow(*chain);
  ASSERT_FALSE(c);
  EXPECT_THAT(c, ErrorIs(ErrorCode::kUnavailable));
  for (const char* part : {"environment", "profile default", "ecs", "imds"}) {
    EXPECT_NE(c.error().message.find(part), std::string::npos) << c.error().message;
  }
}

TEST(ProviderChain, ABrokenConfiguredProviderDoesNotFallThrough) {
  FakeTransport t;
  t.replies["GET /creds"] = net::HttpReply{500, "", {}};
  t.replies["PUT /latest/api/token"] = Ok("tok");
  auto chain = DefaultChain(t,
                            Env({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"},
                                 {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                                 {"AWS_CONFIG_FILE", "/nonexistent"}}),
                            "");
  auto c = FetchNow(*chain);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("ecs: HTTP 500"), std::string::npos);
  EXPECT_EQ(t.calls.size(), 1u);
}

// Completes fetches only when told to.
class ManualProvider final : public CredentialProvider {
 public:
  std::vector<CallerCallback> pending;
  void Fetch(CallerCallback done) override { pending.push_back(std::move(done)); }
};

CallerCredentials Temp(const std::string& id, std::chrono::system_clock::time_point expires) {
  CallerCredentials c;
  c.signing.access_key_id = id;
  c.signing.secret_access_key = SecretString("s");
  c.expiration = expires;
  return c;
}

TEST(RefreshingProvider, SharesOneFetchAndCachesUntilTheMargin) {
  FixedClock clock(std::chrono::system_clock::from_time_t(1'800'000'000));
  auto inner = std::make_unique<ManualProvider>();
  ManualProvider* manual = inner.get();
  RefreshingProvider p(std::move(inner), clock, 5min);
  std::vector<std::string> got;
  auto record = [&got](Result<CallerCredentials> r) {
    got.push_back(r ? r->signing.access_key_id : "error");
  };
  p.Fetch(record);
  p.Fetch(record);
  ASSERT_EQ(manual->pending.size(), 1u);  // one fetch for both callers
  manual->pending[0](Temp("A", clock.Now() + 1h));
  EXPECT_EQ(got, (std::vector<std::string>{"A", "A"}));

  clock.Advance(50min);  // 10 minutes left: fresh enough
  p.Fetch(record);
  EXPECT_EQ(manual->pending.size(), 1u);

  clock.Advance(6min);  // 4 minutes left: served at once, and one refresh starts
  p.Fetch(record);
  p.Fetch(record);
  ASSERT_EQ(manual->pending.size(), 2u);
  EXPECT_EQ(got.back(), "A");
  manual->pending[1](Temp("B", clock.Now() + 1h));
  p.Fetch(record);
  EXPECT_EQ(got.back(), "B");
}

TEST(RefreshingProvider, ServesValidCredentialsWhenARefreshFails) {
  FixedClock clock(std::chrono::system_clock::from_time_t(1'800'000'000));
  auto inner = std::make_unique<ManualProvider>();
  ManualProvider* manual = inner.get();
  RefreshingProvider p(std::move(inner), clock, 5min);
  std::string last;
  auto record = [&last](Result<CallerCredentials> r) {
    last = r ? r->signing.access_key_id : r.error().message;
  };
  p.Fetch(record);
  manual->pending[0](Temp("A", clock.Now() + 1h));
  clock.Advance(58min);
  p.Fetch(record);  // refresh starts; "A" served
  manual->pending[1](Fail(ErrorCode::kUnavailable, "imds down"));
  EXPECT_EQ(last, "A");
  clock.Advance(3min);  // expired now: the caller waits for a fetch, which fails
  p.Fetch(record);
  ASSERT_EQ(manual->pending.size(), 3u);
  manual->pending[2](Fail(ErrorCode::kUnavailable, "imds down"));
  EXPECT_EQ(last, "imds down");
}

TEST(RefreshingProvider, IsReadyOnlyWithValidCredentialsAndRefreshesWhenAsked) {
  FixedClock clock(std::chrono::system_clock::from_time_t(1'800'000'000));
  auto inner = std::make_unique<ManualProvider>();
  ManualProvider* manual = inner.get();
  RefreshingProvider p(std::move(inner), clock, 5min);
  EXPECT_FALSE(p.Ready());  // nothing yet: starts a fetch
  ASSERT_EQ(manual->pending.size(), 1u);
  EXPECT_FALSE(p.Ready());  // one fetch at a time
  EXPECT_EQ(manual->pending.size(), 1u);
  manual->pending[0](Temp("A", clock.Now() + 1h));
  EXPECT_TRUE(p.Ready());
  EXPECT_EQ(manual->pending.size(), 1u);  // fresh: no fetch
  clock.Advance(57min);
  EXPECT_TRUE(p.Ready());  // still valid, and a refresh has started
  EXPECT_EQ(manual->pending.size(), 2u);
  manual->pending[1](Fail(ErrorCode::kUnavailable, "down"));
  clock.Advance(4min);
  EXPECT_FALSE(p.Ready());  // expired, refresh failed
}

}  // namespace
}  // namespace vendo::sts
