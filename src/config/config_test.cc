#include "config/config.h"

#include <gtest/gtest.h>

namespace vendo::server {
namespace {

constexpr std::string_view kGood = R"(
default_app = "field-sensors"
[server]
listen = "0.0.0.0:8443"
threads = 2
[store]
path = "/var/lib/vendo/vendo.db"
master_key_file = "/etc/vendo/master.key"
[credential_cache]
max_entries = 5000
[apps.field-sensors]
mode = "anonymous"
duration_seconds = 3600
policy = '{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/${uid}/*"}]}'
[apps.photos]
mode = "identity"
app_name = "MyMobileAppName"
public_endpoint = "https://tvm.example.com/apps/photos"
policy = '{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${username}/*"}]}'
)";

TEST(Config, ParsesAValidFile) {
  auto cfg = ParseConfig(kGood, "/tmp");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().problems.front();
  EXPECT_EQ(cfg->server.listen, "0.0.0.0:8443");
  EXPECT_EQ(cfg->apps.size(), 2u);
  const AppConfig* photos = cfg->FindApp("photos");
  ASSERT_NE(photos, nullptr);
  EXPECT_EQ(photos->mode, protocol::legacy::Mode::kIdentity);
  EXPECT_EQ(photos->duration, std::chrono::seconds(86400));
  EXPECT_EQ(cfg->FindApp("field-sensors")->duration, std::chrono::seconds(3600));
  EXPECT_TRUE(cfg->credential_cache.enabled);
  EXPECT_EQ(cfg->credential_cache.max_entries, 5000u);
}

TEST(Config, StoreWaitsAreBoundedByTheStatementTimeout) {
  auto with_store = [](std::string_view keys) {
    std::string text(kGood);
    text.replace(text.find("[credential_cache]"), 0, std::string(keys) + "\n");
    return ParseConfig(text, "/tmp");
  };
  auto quick = with_store("statement_timeout_ms = 1000\npool_wait_ms = 500");
  ASSERT_TRUE(quick.has_value()) << quick.error().problems.front();
  EXPECT_EQ(quick->store.connect_timeout, std::chrono::milliseconds(1000));
  // 0.5 s pool + 1 s connect + 2 statements + the STS deadline (10 s) + 1 s.
  EXPECT_EQ(quick->HandlerTimeout(), std::chrono::milliseconds(14500));
  auto own = with_store("statement_timeout_ms = 1000\nconnect_timeout_ms = 2500");
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->store.connect_timeout, std::chrono::milliseconds(2500));
}

TEST(Config, ReportsEveryProblemWithItsKey) {
  auto cfg = ParseConfig(R"(
default_app = "nope"
surprise = 1
[server]
listen = "no-port"
max_body_bytes = 10
[store]
path = "x.db"
[apps.Bad_Name]
mode = "sideways"
issuer = "magic"
duration_seconds = 10
policy = '{"a": "${user}"}'
[apps.id]
mode = "identity"
policy = '{}'
)",
                         "/tmp");
  ASSERT_FALSE(cfg.has_value());
  std::string all;
  for (const auto& p : cfg.error().problems) {
    all += p + "\n";
  }
  for (std::string_view key :
       {"surprise: unknown key", "server.listen:", "server.max_body_bytes:",
        "store.master_key_file:", "apps.Bad_Name:", "apps.Bad_Name.mode:", "apps.Bad_Name.issuer:",
        "apps.Bad_Name.duration_seconds:", "apps.Bad_Name.policy: unknown policy variable",
        "apps.id.public_endpoint:", "default_app:"}) {
    EXPECT_NE(all.find(key), std::string::npos) << key << " missing from:\n" << all;
  }
}

constexpr std::string_view kStore = R"(
[store]
path = "x.db"
master_key_file = "k"
)";

std::vector<std::string> ProblemsOf(std::string_view apps) {
  auto cfg = ParseConfig(std::string(kStore) + std::string(apps), "/tmp");
  return cfg ? std::vector<std::string>{} : cfg.error().problems;
}

bool Mentions(const std::vector<std::string>& problems, std::string_view text) {
  for (const auto& p : problems) {
    if (p.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(Config, ParsesAnAssumeRoleIssuer) {
  auto cfg = ParseConfig(std::string(kStore) + R"(
[apps.photos]
mode = "identity"
public_endpoint = "https://tvm.example.com/apps/photos"
issuer = "aws-assume-role"
session_name = "${app}.${username}"
duration_seconds = 43200
policy = '{}'
[apps.photos.aws]
region = "eu-west-1"
endpoint = "http://127.0.0.1:5000"
account_id = "123456789012"
role_arn = "arn:aws:iam::123456789012:role/devices"
external_id = "x"
source_identity = "${username}"
profile = "vendo"
deadline_ms = 3000
)",
                         "/tmp");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().problems.front();
  const AppConfig& app = cfg->apps[0];
  EXPECT_EQ(app.issuer, "aws-assume-role");
  EXPECT_EQ(app.aws.region, "eu-west-1");
  EXPECT_EQ(app.aws.role_arn, "arn:aws:iam::123456789012:role/devices");
  EXPECT_EQ(app.aws.deadline, std::chrono::milliseconds(3000));
  EXPECT_EQ(app.SessionNameTemplate(), "${app}.${username}");
}

TEST(Config, DefaultDurationsFollowTheIssuer) {
  auto cfg = ParseConfig(std::string(kStore) + R"(
[apps.d]
policy = '{}'
[apps.f]
issuer = "aws-federation"
policy = '{}'
[apps.r]
issuer = "aws-assume-role"
policy = '{}'
[apps.r.aws]
role_arn = "arn:aws:iam::1:role/r"
)",
                         "/tmp");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().problems.front();
  EXPECT_EQ(cfg->FindApp("d")->duration, std::chrono::seconds(86400));
  EXPECT_EQ(cfg->FindApp("f")->duration, std::chrono::seconds(43200));
  EXPECT_EQ(cfg->FindApp("r")->duration, std::chrono::seconds(3600));
}

TEST(Config, ChecksIssuerDurationsAndSettings) {
  // AssumeRole allows 12 hours; GetFederationToken 36.
  auto too_long = ProblemsOf(R"(
[apps.a]
issuer = "aws-assume-role"
duration_seconds = 43201
policy = '{}'
[apps.a.aws]
role_arn = "arn:aws:iam::1:role/r"
)");
  EXPECT_TRUE(Mentions(too_long, "apps.a.duration_seconds: must be between 900 and 43200"));
  EXPECT_TRUE(ProblemsOf(R"(
[apps.a]
issuer = "aws-federation"
duration_seconds = 129600
policy = '{}'
)")
                  .empty());
  auto bad = ProblemsOf(R"(
[apps.a]
issuer = "aws-assume-role"
session_name = "${device}"
policy = '{}'
[apps.a.aws]
endpoint = "sts.example.com"
access_key_id = "AKIA"
source_identity = "${nope}"
)");
  for (const char* key :
       {"apps.a.aws.role_arn", "apps.a.aws.endpoint", "apps.a.aws.access_key_id",
        "apps.a.session_name: unknown variable ${device}", "apps.a.aws.source_identity"}) {
    EXPECT_TRUE(Mentions(bad, key)) << key;
  }
  EXPECT_TRUE(Mentions(ProblemsOf(R"(
[apps.a]
issuer = "aws-assume-role"
policy = '{}'
)"),
                       "apps.a.aws: required for aws-assume-role"));
  EXPECT_TRUE(Mentions(ProblemsOf(R"(
[apps.a]
policy = '{}'
[apps.a.aws]
region = "eu-west-1"
)"),
                       "apps.a.aws: only for the aws-federation and aws-assume-role issuers"));
}

TEST(Config, SyntaxErrorsNameTheLine) {
  auto cfg = ParseConfig("[server\nlisten=1", "/tmp");
  ASSERT_FALSE(cfg.has_value());
  EXPECT_TRUE(cfg.error().problems.front().starts_with("line 1")) << cfg.error().problems.front();
}

TEST(Config, DevConfigServesBothDemoApps) {
  Config cfg = DevConfig("127.0.0.1:0", "/tmp/x");
  EXPECT_TRUE(cfg.dev);
  EXPECT_EQ(cfg.default_app, "anonymous-demo");
  ASSERT_NE(cfg.FindApp("identity-demo"), nullptr);
  EXPECT_EQ(cfg.FindApp("identity-demo")->app_name, "MyMobileAppName");
  EXPECT_EQ(cfg.store.master_key_file, "/tmp/x/master.key");
}

TEST(Config, AdminBeyondLoopbackNeedsATokenOrClientCertificates) {
  constexpr std::string_view kApp = R"(
[apps.a]
mode = "anonymous"
policy = '{"Statement":[]}'
)";
  auto admin = [&](std::string_view keys) {
    return ProblemsOf(std::string("[admin]\n") + std::string(keys) + std::string(kApp));
  };
  EXPECT_TRUE(Mentions(admin(R"(listen = "0.0.0.0:9090")"), "admin.token_file"));
  EXPECT_TRUE(admin("listen = \"0.0.0.0:9090\"\ntoken_file = \"t\"").empty());
  EXPECT_TRUE(admin(R"(listen = "0.0.0.0:9090"
tls_cert_file = "c.pem"
tls_key_file = "c.key"
client_ca_file = "ca.pem")")
                  .empty());
  EXPECT_TRUE(Mentions(admin(R"(client_ca_file = "ca.pem")"), "admin.client_ca_file"));
  EXPECT_TRUE(Mentions(admin(R"(tls_cert_file = "c.pem")"), "admin.tls_cert_file"));
  auto cfg = ParseConfig(std::string(kStore) + "[admin]\ntls_cert_file = \"c.pem\"\n" +
                             "tls_key_file = \"/etc/c.key\"\n" + std::string(kApp),
                         "/tmp/x");
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->admin.tls_cert_file, "/tmp/x/c.pem");  // relative to the config file
  EXPECT_EQ(cfg->admin.tls_key_file, "/etc/c.key");
}

TEST(Config, SplitHostPort) {
  EXPECT_EQ(SplitHostPort("127.0.0.1:8080")->second, 8080);
  EXPECT_EQ(SplitHostPort("[::1]:0")->first, "::1");
  EXPECT_FALSE(SplitHostPort("localhost").has_value());
  EXPECT_FALSE(SplitHostPort("h:99999").has_value());
}

}  // namespace
}  // namespace vendo::server

namespace vendo::server {
namespace {

constexpr std::string_view kFederatedHead = R"(
[store]
path = "/var/lib/vendo/vendo.db"
master_key_file = "/etc/vendo/master.key"
)";

std::string Problems(const std::expected<Config, ConfigProblems>& cfg) {
  std::string all;
  for (const auto& p : cfg ? std::vector<std::string>{} : cfg.error().problems) {
    all += p + "\n";
  }
  return all;
}

TEST(FederatedConfig, ParsesProvidersWithTheirRules) {
  auto cfg = ParseConfig(std::string(kFederatedHead) + R"(
[apps.photos]
mode = "federated"
policy = '{"Resource":"arn:aws:s3:::b/${idp}/${claim:sub}/*"}'
session_name = "${idp}.${claim:email}"
[[apps.photos.identity_providers]]
name = "google"
issuer_url = "https://accounts.google.com"
audiences = ["1234.apps.googleusercontent.com"]
algorithms = ["RS256"]
leeway_seconds = 30
max_token_age_seconds = 3600
required_claims = { hd = "example.com", email_verified = true }
[[apps.photos.identity_providers.rules]]
claim = "groups"
equals = "admins"
policy = '{"Resource":"arn:aws:s3:::b/*"}'
[[apps.photos.identity_providers.rules]]
claim = "staff"
equals = true
policy = '{"Resource":"arn:aws:s3:::b/${claim:sub}/*"}'
)",
                         "/tmp");
  ASSERT_TRUE(cfg) << Problems(cfg);
  const AppConfig* app = cfg->FindApp("photos");
  ASSERT_NE(app, nullptr);
  EXPECT_TRUE(app->federated);
  ASSERT_EQ(app->identity_providers.size(), 1u);
  const auto& idp = app->identity_providers[0];
  EXPECT_EQ(idp.name, "google");
  EXPECT_EQ(idp.issuer_url, "https://accounts.google.com");
  EXPECT_EQ(idp.algorithms, std::vector<std::string>{"RS256"});
  EXPECT_EQ(idp.leeway, std::chrono::seconds(30));
  EXPECT_EQ(idp.max_token_age, std::chrono::seconds(3600));
  EXPECT_EQ(idp.required_claims.size(), 2u);
  ASSERT_EQ(idp.rules.size(), 2u);
  EXPECT_EQ(idp.rules[0].claim, "groups");
  EXPECT_EQ(idp.rules[0].equals, "admins");
  EXPECT_EQ(idp.rules[0].policy, R"({"Resource":"arn:aws:s3:::b/*"})");
  EXPECT_EQ(idp.rules[1].equals, "true");
  EXPECT_EQ(app->SessionNameTemplate(), "${idp}.${claim:email}");
}

TEST(FederatedConfig, RefusesWhatCouldNotWorkOrWouldBeUnsafe) {
  auto cfg = ParseConfig(std::string(kFederatedHead) + R"(
[apps.photos]
mode = "federated"
policy = '{"Resource":"b/${claim:sub}"}'
session_name = "${claim:no way}"
[[apps.photos.identity_providers]]
name = "Bad Name"
issuer_url = "http://plain.example"
algorithms = ["HS256", "none"]
session_tags = { "aws:x" = "sub", team = "team" }
[[apps.photos.identity_providers.rules]]
claim = "groups"
role_arn = "arn:aws:iam::1:role/x"
[[apps.photos.identity_providers.rules]]
claim = "bad claim"
equals = "x"
policy = '{"Resource":"${nope}"}'
[apps.nofed]
mode = "federated"
policy = '{"Resource":"b"}'
[apps.anon]
policy = '{"Resource":"b/${claim:sub}"}'
session_name = "${uid}.${idp}"
[[apps.anon.identity_providers]]
name = "google"
issuer_url = "https://accounts.google.com"
audiences = ["x"]
)",
                         "/tmp");
  ASSERT_FALSE(cfg);
  std::string all = Problems(cfg);
  for (std::string_view expected :
       {"apps.photos.identity_providers[0].name", "apps.photos.identity_providers[0].issuer_url",
        "apps.photos.identity_providers[0].audiences",
        "apps.photos.identity_providers[0].algorithms: \"HS256\"",
        "apps.photos.identity_providers[0].algorithms: \"none\"",
        "apps.nofed.identity_providers: required", "apps.anon.identity_providers: only for",
        "apps.anon.policy: ${claim:sub}", "session_tags.aws:x: not a tag key",
        "apps.photos.identity_providers: session_tags need the aws-assume-role issuer",
        "apps.photos.session_name: ${claim:NAME} needs a claim name",
        "apps.anon.session_name: ${idp} is only for a federated app",
        "apps.photos.identity_providers[0].rules[0].equals: required",
        "apps.photos.identity_providers: a rule's role_arn needs the aws-assume-role issuer",
        "apps.photos.identity_providers[0].rules[1].claim: required",
        "apps.photos.identity_providers[0].rules[1].policy: "}) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << " not in:\n" << all;
  }
}

}  // namespace
}  // namespace vendo::server
