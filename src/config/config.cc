#include "config/config.h"

#include <toml++/toml.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/trusted_proxies.h"
#include "issuer/session_name.h"
#include "net/url.h"
#include "policy/template.h"

namespace vendo::server {
namespace {

using protocol::legacy::Mode;

class Checker {
 public:
  void Problem(const std::string& key, const std::string& what) {
    problems_.push_back(key + ": " + what);
  }
  bool ok() const { return problems_.empty(); }
  std::vector<std::string> Take() { return std::move(problems_); }

  // Reads an optional key of type T into `out`, reporting a wrong type.
  template <class T>
  void Read(const toml::table& t, std::string_view key, const std::string& path, T& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      return;
    }
    if (auto v = n->value<T>()) {
      out = *v;
    } else {
      Problem(path, std::string("wrong type (expected ") + TypeName<T>() + ")");
    }
  }

 private:
  template <class T>
  static const char* TypeName() {
    if constexpr (std::is_same_v<T, std::string>) {
      return "a string";
    } else if constexpr (std::is_same_v<T, bool>) {
      return "true or false";
    } else {
      return "an integer";
    }
  }
  std::vector<std::string> problems_;
};

void CheckUnknownKeys(Checker& c, const toml::table& t, const std::string& prefix,
                      std::initializer_list<std::string_view> known) {
  for (auto&& [k, v] : t) {
    bool found = false;
    for (auto name : known) {
      found = found || k.str() == name;
    }
    if (!found) {
      c.Problem(prefix + std::string(k.str()), "unknown key");
    }
  }
}

// A list of strings at `key`, if there is one; false (with a problem) when it is not a list of
// strings. `what` says what a list should hold.
bool ReadStringList(Checker& c, const toml::table& t, std::string_view key, const std::string& path,
                    std::string_view what, std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    return false;
  }
  const toml::array* list = n->as_array();
  bool ok = list != nullptr;
  for (std::size_t i = 0; ok && i < list->size(); ++i) {
    auto v = list->get(i)->value<std::string>();
    ok = v.has_value();
    if (ok) {
      out.push_back(*v);
    }
  }
  if (!ok) {
    c.Problem(path, "must be " + std::string(what));
  }
  return ok;
}

// An origin as browsers send it: scheme://host[:port], nothing more.
bool IsOrigin(std::string_view o) {
  std::string_view rest = o.starts_with("https://")  ? o.substr(8)
                          : o.starts_with("http://") ? o.substr(7)
                                                     : std::string_view{};
  return !rest.empty() && rest.find_first_of("/?#@ ") == std::string_view::npos;
}

template <class Rep, class Period>
void ReadDuration(Checker& c, const toml::table& t, std::string_view key, const std::string& path,
                  std::chrono::duration<Rep, Period>& out, std::int64_t min, std::int64_t max) {
  std::int64_t v = out.count();
  c.Read(t, key, path, v);
  if (v < min || v > max) {
    c.Problem(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return;
  }
  out = std::chrono::duration<Rep, Period>(v);
}

void ParseServer(Checker& c, const toml::table& t, ServerConfig& s) {
  CheckUnknownKeys(
      c, t, "server.",
      {"listen", "threads", "pin_threads", "max_connections", "max_connections_per_address",
       "ipv6_prefix", "first_byte_timeout_ms", "header_timeout_ms", "handler_timeout_ms",
       "idle_timeout_ms", "drain_timeout_ms", "max_header_bytes", "max_body_bytes", "tls_cert_file",
       "tls_key_file", "trusted_proxies", "log_level"});
  c.Read(t, "listen", "server.listen", s.listen);
  if (!SplitHostPort(s.listen)) {
    c.Problem("server.listen", "must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080");
  }
  std::int64_t threads = s.http.threads, max_conn = s.http.max_connections;
  c.Read(t, "threads", "server.threads", threads);
  c.Read(t, "max_connections", "server.max_connections", max_conn);
  if (threads < 0 || threads > 256) {
    c.Problem("server.threads", "must be between 0 (one per core) and 256");
  }
  if (max_conn < 1 || max_conn > 1'000'000) {
    c.Problem("server.max_connections", "must be between 1 and 1000000");
  }
  s.http.threads = static_cast<int>(threads);
  c.Read(t, "pin_threads", "server.pin_threads", s.http.pin_threads);
  s.http.max_connections = static_cast<int>(max_conn);
  std::int64_t per_address = s.http.max_connections_per_address, prefix = s.http.ipv6_prefix;
  c.Read(t, "max_connections_per_address", "server.max_connections_per_address", per_address);
  if (per_address < 1 || per_address > 1'000'000) {
    c.Problem("server.max_connections_per_address", "must be between 1 and 1000000");
  }
  s.http.max_connections_per_address = static_cast<int>(per_address);
  c.Read(t, "ipv6_prefix", "server.ipv6_prefix", prefix);
  if (prefix < 32 || prefix > 128) {
    c.Problem("server.ipv6_prefix",
              "must be between 32 and 128 (bits of an IPv6 address that "
              "name one client)");
  }
  s.http.ipv6_prefix = static_cast<int>(prefix);
  ReadDuration(c, t, "first_byte_timeout_ms", "server.first_byte_timeout_ms",
               s.http.first_byte_timeout, 100, 600000);
  ReadDuration(c, t, "header_timeout_ms", "server.header_timeout_ms", s.http.header_timeout, 100,
               600000);
  if (t.contains("handler_timeout_ms")) {  // otherwise 0: derived (Config::HandlerTimeout)
    ReadDuration(c, t, "handler_timeout_ms", "server.handler_timeout_ms", s.http.handler_timeout,
                 100, 600000);
  }
  ReadDuration(c, t, "idle_timeout_ms", "server.idle_timeout_ms", s.http.idle_timeout, 100,
               3600000);
  ReadDuration(c, t, "drain_timeout_ms", "server.drain_timeout_ms", s.http.drain_timeout, 0,
               600000);
  auto header = static_cast<std::int64_t>(s.http.max_header_bytes);
  auto body = static_cast<std::int64_t>(s.http.max_body_bytes);
  c.Read(t, "max_header_bytes", "server.max_header_bytes", header);
  c.Read(t, "max_body_bytes", "server.max_body_bytes", body);
  if (header < 1024 || header > 8192) {
    c.Problem("server.max_header_bytes", "must be between 1024 and 8192");
  }
  if (body < 1024 || body > 65536) {
    c.Problem("server.max_body_bytes", "must be between 1024 and 65536");
  }
  s.http.max_header_bytes = static_cast<std::size_t>(header);
  s.http.max_body_bytes = static_cast<std::size_t>(body);
  c.Read(t, "tls_cert_file", "server.tls_cert_file", s.http.tls_cert_file);
  c.Read(t, "tls_key_file", "server.tls_key_file", s.http.tls_key_file);
  if (s.http.tls_cert_file.empty() != s.http.tls_key_file.empty()) {
    c.Problem("server.tls_cert_file", "tls_cert_file and tls_key_file must be set together");
  }
  if (ReadStringList(c, t, "trusted_proxies", "server.trusted_proxies",
                     "a list of addresses or networks, e.g. [\"10.0.0.0/8\"]",
                     s.http.trusted_proxies)) {
    if (auto parsed = TrustedProxies::Parse(s.http.trusted_proxies); !parsed) {
      c.Problem("server.trusted_proxies", parsed.error().message);
    }
  }
  c.Read(t, "log_level", "server.log_level", s.log_level);
  if (s.log_level != "debug" && s.log_level != "info" && s.log_level != "warn" &&
      s.log_level != "error") {
    c.Problem("server.log_level", "must be debug, info, warn or error");
  }
}

std::string Resolve(const std::string& base_dir, const std::string& file) {
  std::filesystem::path fp(file);
  return (fp.is_relative() ? std::filesystem::path(base_dir) / fp : fp).string();
}

void ParseStore(Checker& c, const toml::table& t, const std::string& base_dir, StoreConfig& s) {
  CheckUnknownKeys(
      c, t, "store.",
      {"url", "path", "password_file", "max_connections", "master_key_file",
       "group_commit_max_batch", "cache_ttl_ms", "cache_max_entries", "pool_wait_ms",
       "connect_timeout_ms", "statement_timeout_ms", "tcp_user_timeout_ms", "keepalive_idle_s"});
  c.Read(t, "url", "store.url", s.url);
  c.Read(t, "path", "store.path", s.path);
  c.Read(t, "password_file", "store.password_file", s.password_file);
  auto conns = static_cast<std::int64_t>(s.max_connections);
  c.Read(t, "max_connections", "store.max_connections", conns);
  if (conns < 1 || conns > 1000) {
    c.Problem("store.max_connections", "must be between 1 and 1000");
  }
  s.max_connections = static_cast<std::size_t>(conns);
  c.Read(t, "master_key_file", "store.master_key_file", s.master_key_file);
  auto batch = static_cast<std::int64_t>(s.group_commit_max_batch);
  c.Read(t, "group_commit_max_batch", "store.group_commit_max_batch", batch);
  if (batch < 1 || batch > 10000) {
    c.Problem("store.group_commit_max_batch", "must be between 1 and 10000");
  }
  s.group_commit_max_batch = static_cast<std::size_t>(batch);
  ReadDuration(c, t, "cache_ttl_ms", "store.cache_ttl_ms", s.cache_ttl, 0, 60000);
  auto entries = static_cast<std::int64_t>(s.cache_max_entries);
  c.Read(t, "cache_max_entries", "store.cache_max_entries", entries);
  if (entries < 16 || entries > 100'000'000) {
    c.Problem("store.cache_max_entries", "must be between 16 and 100000000");
  }
  s.cache_max_entries = static_cast<std::size_t>(entries);
  ReadDuration(c, t, "pool_wait_ms", "store.pool_wait_ms", s.pool_wait, 10, 60000);
  ReadDuration(c, t, "connect_timeout_ms", "store.connect_timeout_ms", s.connect_timeout, 100,
               60000);
  ReadDuration(c, t, "statement_timeout_ms", "store.statement_timeout_ms", s.statement_timeout, 100,
               600000);
  if (!t.contains("connect_timeout_ms")) {
    // Opening a connection waits no longer than a statement would: a request that needs the
    // store then fails within about pool_wait + connect + statement.
    s.connect_timeout = std::min(s.connect_timeout, s.statement_timeout);
  }
  ReadDuration(c, t, "tcp_user_timeout_ms", "store.tcp_user_timeout_ms", s.tcp_user_timeout, 0,
               600000);
  std::int64_t idle = s.keepalive_idle_seconds;
  c.Read(t, "keepalive_idle_s", "store.keepalive_idle_s", idle);
  if (idle < 1 || idle > 7200) {
    c.Problem("store.keepalive_idle_s", "must be between 1 and 7200");
  }
  s.keepalive_idle_seconds = static_cast<int>(idle);
  if (!s.url.empty() && !s.path.empty()) {
    c.Problem("store.path", "set either url or path, not both");
  } else if (s.url.empty() && s.path.empty()) {
    c.Problem("store.url",
              "required: sqlite:///FILE, postgres://USER@HOST:PORT/DB, or path = FILE");
  } else if (auto loc = store::ParseStoreUrl(s.url.empty() ? "sqlite://" + s.path : s.url); !loc) {
    c.Problem("store.url", loc.error().message);
  } else {
    s.location = *loc;
    if (!s.password_file.empty() && s.location.kind != store::StoreLocation::Kind::kPostgres) {
      c.Problem("store.password_file", "only for postgres:// stores");
    }
    if (s.location.kind == store::StoreLocation::Kind::kSqlite) {
      s.path = s.location.sqlite_path;
    }
  }
  if (!s.password_file.empty()) {
    s.password_file = Resolve(base_dir, s.password_file);
    if (std::ifstream probe(s.password_file); !probe) {
      c.Problem("store.password_file", "cannot read " + s.password_file);
    }
  }
  if (s.master_key_file.empty()) {
    c.Problem("store.master_key_file", "required (64 hex characters, mode 0600)");
  }
}

void ParseCredentialCache(Checker& c, const toml::table& t, CredentialCacheConfig& cc) {
  CheckUnknownKeys(c, t, "credential_cache.",
                   {"enabled", "max_entries", "failure_ttl_ms", "refused_ttl_ms"});
  c.Read(t, "enabled", "credential_cache.enabled", cc.enabled);
  auto entries = static_cast<std::int64_t>(cc.max_entries);
  c.Read(t, "max_entries", "credential_cache.max_entries", entries);
  if (entries < 1 || entries > 100'000'000) {
    c.Problem("credential_cache.max_entries", "must be between 1 and 100000000");
  }
  cc.max_entries = static_cast<std::size_t>(entries);
  ReadDuration(c, t, "failure_ttl_ms", "credential_cache.failure_ttl_ms", cc.failure_ttl, 0,
               600000);
  ReadDuration(c, t, "refused_ttl_ms", "credential_cache.refused_ttl_ms", cc.refused_ttl, 0,
               3600000);
}

bool IsValidAppName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string ReadFile(const std::string& path, bool& ok) {
  std::ifstream in(path);
  ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ParseAws(Checker& c, const toml::table& t, const std::string& p, const std::string& issuer,
              const std::string& base_dir, AwsIssuerConfig& aws) {
  CheckUnknownKeys(
      c, t, p,
      {"region", "endpoint", "account_id", "role_arn", "external_id", "source_identity",
       "session_tags", "ca_file", "access_key_id", "secret_access_key_file", "profile",
       "deadline_ms", "max_attempts", "attempt_timeout_ms"});
  c.Read(t, "region", p + "region", aws.region);
  c.Read(t, "endpoint", p + "endpoint", aws.endpoint);
  c.Read(t, "account_id", p + "account_id", aws.account_id);
  c.Read(t, "role_arn", p + "role_arn", aws.role_arn);
  c.Read(t, "external_id", p + "external_id", aws.external_id);
  c.Read(t, "source_identity", p + "source_identity", aws.source_identity);
  c.Read(t, "session_tags", p + "session_tags", aws.session_tags);
  c.Read(t, "ca_file", p + "ca_file", aws.ca_file);
  c.Read(t, "access_key_id", p + "access_key_id", aws.access_key_id);
  c.Read(t, "secret_access_key_file", p + "secret_access_key_file", aws.secret_access_key_file);
  c.Read(t, "profile", p + "profile", aws.profile);
  ReadDuration(c, t, "deadline_ms", p + "deadline_ms", aws.deadline, 100, 120000);
  std::int64_t attempts = aws.max_attempts;
  c.Read(t, "max_attempts", p + "max_attempts", attempts);
  if (attempts < 1 || attempts > 10) {
    c.Problem(p + "max_attempts", "must be between 1 and 10");
  }
  aws.max_attempts = static_cast<int>(attempts);
  ReadDuration(c, t, "attempt_timeout_ms", p + "attempt_timeout_ms", aws.attempt_timeout, 100,
               120000);
  if (!t.contains("attempt_timeout_ms")) {
    aws.attempt_timeout = std::min(aws.attempt_timeout, aws.deadline);
  } else if (aws.attempt_timeout > aws.deadline) {
    c.Problem(p + "attempt_timeout_ms", "cannot be longer than deadline_ms");
  }

  if (aws.region.empty()) {
    c.Problem(p + "region", "required: the region STS requests are signed for");
  }
  if (!aws.endpoint.empty()) {
    if (auto url = net::ParseHttpUrl(aws.endpoint); !url) {
      c.Problem(p + "endpoint", url.error().message);
    } else if (url->path_and_query != "/") {
      c.Problem(p + "endpoint", "must be scheme://host[:port] with no path");
    }
  }
  if (issuer == "aws-assume-role" && aws.role_arn.rfind("arn:", 0) != 0) {
    c.Problem(p + "role_arn", "required for aws-assume-role: arn:aws:iam::ACCOUNT:role/NAME");
  }
  if (issuer == "aws-federation" &&
      (!aws.role_arn.empty() || !aws.external_id.empty() || !aws.source_identity.empty())) {
    c.Problem(p + "role_arn",
              "role_arn, external_id and source_identity are for aws-assume-role only");
  }
  if (auto ok = issuer::ExpandName(aws.source_identity, {}); !ok) {
    c.Problem(p + "source_identity", ok.error().message);
  }
  if (aws.access_key_id.empty() != aws.secret_access_key_file.empty()) {
    c.Problem(p + "access_key_id", "access_key_id and secret_access_key_file go together");
  }
  if (!aws.access_key_id.empty() && !aws.profile.empty()) {
    c.Problem(p + "profile", "set either a profile or access_key_id, not both");
  }
  if (!aws.secret_access_key_file.empty()) {
    aws.secret_access_key_file = Resolve(base_dir, aws.secret_access_key_file);
    if (std::ifstream probe(aws.secret_access_key_file); !probe) {
      c.Problem(p + "secret_access_key_file", "cannot read " + aws.secret_access_key_file);
    }
  }
  if (!aws.ca_file.empty()) {
    aws.ca_file = Resolve(base_dir, aws.ca_file);
  }
}

void ParseApp(Checker& c, const std::string& name, const toml::table& t,
              const std::string& base_dir, AppConfig& app) {
  std::string p = "apps." + name + ".";
  CheckUnknownKeys(c, t, p,
                   {"mode", "app_name", "public_endpoint", "issuer", "aws", "session_name",
                    "duration_seconds", "policy", "policy_file", "timestamp_window_seconds",
                    "allow_insecure_legacy", "max_device_age_days", "limits", "argon2_memory_kib",
                    "argon2_passes", "argon2_lanes", "allowed_origins"});
  if (ReadStringList(c, t, "allowed_origins", p + "allowed_origins",
                     "a list of origins, e.g. [\"https://app.example.com\"]",
                     app.allowed_origins)) {
    for (const auto& o : app.allowed_origins) {
      if (!IsOrigin(o)) {
        c.Problem(p + "allowed_origins", "\"" + o + "\" is not an origin (scheme://host[:port])");
      }
    }
  }
  for (auto [key, field, min, max] :
       {std::tuple{"argon2_memory_kib", &crypto::Argon2Params::memory_kib, 8192, 4194304},
        std::tuple{"argon2_passes", &crypto::Argon2Params::passes, 1, 16},
        std::tuple{"argon2_lanes", &crypto::Argon2Params::lanes, 1, 16}}) {
    std::int64_t v = app.argon2.*field;
    c.Read(t, key, p + key, v);
    if (v < min || v > max) {
      c.Problem(p + key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    app.argon2.*field = static_cast<std::uint32_t>(v);
  }
  if (const auto* limits = t["limits"].as_table()) {
    std::string lp = p + "limits.";
    CheckUnknownKeys(c, *limits, lp,
                     {"registrations_per_address_per_hour", "failed_logins_per_user",
                      "failed_logins_per_address_per_hour", "tokens_per_device_per_minute"});
    for (auto [key, field] :
         {std::pair{"registrations_per_address_per_hour",
                    &LimitsConfig::registrations_per_address_per_hour},
          std::pair{"failed_logins_per_user", &LimitsConfig::failed_logins_per_user},
          std::pair{"failed_logins_per_address_per_hour",
                    &LimitsConfig::failed_logins_per_address_per_hour},
          std::pair{"tokens_per_device_per_minute", &LimitsConfig::tokens_per_device_per_minute}}) {
      c.Read(*limits, key, lp + key, app.limits.*field);
      if (app.limits.*field < 0 || app.limits.*field > 1'000'000) {
        c.Problem(lp + key, "must be between 0 (no limit) and 1000000");
      }
    }
  }
  c.Read(t, "allow_insecure_legacy", p + "allow_insecure_legacy", app.allow_insecure_legacy);
  std::int64_t max_age_days = 0;
  c.Read(t, "max_device_age_days", p + "max_device_age_days", max_age_days);
  if (max_age_days < 0 || max_age_days > 36500) {
    c.Problem(p + "max_device_age_days", "must be between 0 (no limit) and 36500");
  }
  app.max_device_age = std::chrono::hours(24 * max_age_days);
  app.name = name;
  if (!IsValidAppName(name)) {
    c.Problem("apps." + name, "app names are 1-64 characters of a-z, 0-9, '-' and '_'");
  }
  std::string mode = "anonymous";
  c.Read(t, "mode", p + "mode", mode);
  if (mode == "anonymous") {
    app.mode = Mode::kAnonymous;
  } else if (mode == "identity") {
    app.mode = Mode::kIdentity;
  } else {
    c.Problem(p + "mode", "must be anonymous or identity");
  }
  app.app_name = name;
  c.Read(t, "app_name", p + "app_name", app.app_name);
  c.Read(t, "public_endpoint", p + "public_endpoint", app.public_endpoint);
  if (app.mode == Mode::kIdentity && app.public_endpoint.empty()) {
    c.Problem(p + "public_endpoint",
              "required for identity apps: the URL clients are configured with (it salts "
              "password hashes)");
  }
  c.Read(t, "issuer", p + "issuer", app.issuer);
  bool aws = app.issuer == "aws-federation" || app.issuer == "aws-assume-role";
  if (app.issuer != "dev" && !aws) {
    c.Problem(p + "issuer", "unknown issuer \"" + app.issuer +
                                "\" (available: dev, aws-federation, aws-assume-role)");
  }
  if (const auto* aws_table = t["aws"].as_table()) {
    if (!aws) {
      c.Problem(p + "aws", "only for the aws-federation and aws-assume-role issuers");
    }
    ParseAws(c, *aws_table, p + "aws.", app.issuer, base_dir, app.aws);
  } else if (t.contains("aws")) {
    c.Problem(p + "aws", "must be a table");
  } else if (app.issuer == "aws-assume-role") {
    c.Problem(p + "aws", "required for aws-assume-role ([apps." + name + ".aws] with role_arn)");
  }
  c.Read(t, "session_name", p + "session_name", app.session_name);
  if (auto ok = issuer::ExpandName(app.session_name, {}); !ok) {
    c.Problem(p + "session_name", ok.error().message);
  }
  // STS's own ranges: AssumeRole allows at most 12 hours, GetFederationToken 36.
  std::int64_t max_duration = app.issuer == "aws-assume-role" ? 43200 : 129600;
  if (!t.contains("duration_seconds")) {
    // STS's own defaults: AssumeRole 1 hour, GetFederationToken 12 hours; dev as in 2012.
    app.duration = std::chrono::seconds(app.issuer == "aws-assume-role"  ? 3600
                                        : app.issuer == "aws-federation" ? 43200
                                                                         : 86400);
  }
  ReadDuration(c, t, "duration_seconds", p + "duration_seconds", app.duration, 900, max_duration);
  ReadDuration(c, t, "timestamp_window_seconds", p + "timestamp_window_seconds",
               app.timestamp_window, 1, 900);
  std::string policy_file;
  c.Read(t, "policy", p + "policy", app.policy);
  c.Read(t, "policy_file", p + "policy_file", policy_file);
  if (!policy_file.empty()) {
    if (!app.policy.empty()) {
      c.Problem(p + "policy_file", "set either policy or policy_file, not both");
    }
    std::string path = Resolve(base_dir, policy_file);
    bool ok = false;
    app.policy = ReadFile(path, ok);
    if (!ok) {
      c.Problem(p + "policy_file", "cannot read " + path);
      return;
    }
  }
  if (app.policy.empty()) {
    c.Problem(p + "policy", "required: the policy template to vend (policy or policy_file)");
  } else if (auto tmpl = policy::Template::Parse(app.policy); !tmpl) {
    c.Problem(p + (policy_file.empty() ? "policy" : "policy_file"), tmpl.error().message);
  }
}

}  // namespace

std::chrono::milliseconds Config::HandlerTimeout() const {
  if (server.http.handler_timeout.count() > 0) {
    return server.http.handler_timeout;
  }
  std::chrono::milliseconds issuer{0};
  for (const auto& app : apps) {
    issuer = std::max(issuer, app.aws.deadline);
  }
  return store.pool_wait + store.connect_timeout + 2 * store.statement_timeout + issuer +
         std::chrono::seconds(1);
}

const AppConfig* Config::FindApp(std::string_view name) const {
  for (const auto& a : apps) {
    if (a.name == name) {
      return &a;
    }
  }
  return nullptr;
}

std::optional<std::pair<std::string, std::uint16_t>> SplitHostPort(std::string_view listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return std::nullopt;
  }
  std::string host(listen.substr(0, colon));
  if (host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535 ||
      host.empty()) {
    return std::nullopt;
  }
  return std::make_pair(host, static_cast<std::uint16_t>(port));
}

std::expected<Config, ConfigProblems> ParseConfig(std::string_view toml_text,
                                                  const std::string& base_dir) {
  // toml++ reports syntax errors by exception; they stop here.
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& err) {
    return std::unexpected(ConfigProblems{{"line " + std::to_string(err.source().begin.line) +
                                           ": " + std::string(err.description())}});
  }
  Checker c;
  Config cfg;
  CheckUnknownKeys(
      c, root, "",
      {"server", "admin", "store", "credential_cache", "audit", "default_app", "apps"});
  if (const auto* a = root["admin"].as_table()) {
    CheckUnknownKeys(c, *a, "admin.",
                     {"listen", "token_file", "tls_cert_file", "tls_key_file", "client_ca_file"});
    c.Read(*a, "listen", "admin.listen", cfg.admin.listen);
    c.Read(*a, "token_file", "admin.token_file", cfg.admin.token_file);
    for (auto [key, value] : {std::pair{"tls_cert_file", &cfg.admin.tls_cert_file},
                              std::pair{"tls_key_file", &cfg.admin.tls_key_file},
                              std::pair{"client_ca_file", &cfg.admin.client_ca_file}}) {
      c.Read(*a, key, std::string("admin.") + key, *value);
      if (!value->empty()) {
        *value = Resolve(base_dir, *value);
      }
    }
    if (cfg.admin.tls_cert_file.empty() != cfg.admin.tls_key_file.empty()) {
      c.Problem("admin.tls_cert_file", "tls_cert_file and tls_key_file must be set together");
    }
    if (!cfg.admin.client_ca_file.empty() && cfg.admin.tls_cert_file.empty()) {
      c.Problem("admin.client_ca_file", "client certificates need TLS: set admin.tls_cert_file");
    }
    if (!cfg.admin.token_file.empty()) {
      cfg.admin.token_file = Resolve(base_dir, cfg.admin.token_file);
    }
  }
  if (!cfg.admin.listen.empty()) {
    auto hp = SplitHostPort(cfg.admin.listen);
    if (!hp) {
      c.Problem("admin.listen", "must be HOST:PORT, e.g. 127.0.0.1:9090, or \"\" for none");
    } else if (!net::IsLoopbackHost(hp->first) && cfg.admin.token_file.empty() &&
               cfg.admin.client_ca_file.empty()) {
      c.Problem("admin.token_file",
                "required (or admin.client_ca_file) when admin.listen is not on loopback: "
                "metrics and the status page must not be open to the network");
    }
  }
  if (const auto* a = root["audit"].as_table()) {
    CheckUnknownKeys(c, *a, "audit.", {"file"});
    c.Read(*a, "file", "audit.file", cfg.audit.file);
    if (!cfg.audit.file.empty()) {
      cfg.audit.file = Resolve(base_dir, cfg.audit.file);
    }
  }
  if (const auto* s = root["server"].as_table()) {
    ParseServer(c, *s, cfg.server);
  }
  if (const auto* s = root["store"].as_table()) {
    ParseStore(c, *s, base_dir, cfg.store);
  } else {
    c.Problem("store", "required table ([store] with url or path, and master_key_file)");
  }
  if (const auto* cc = root["credential_cache"].as_table()) {
    ParseCredentialCache(c, *cc, cfg.credential_cache);
  }
  c.Read(root, "default_app", "default_app", cfg.default_app);
  if (const auto* apps = root["apps"].as_table()) {
    for (auto&& [name, node] : *apps) {
      AppConfig app;
      if (const auto* t = node.as_table()) {
        ParseApp(c, std::string(name.str()), *t, base_dir, app);
        cfg.apps.push_back(std::move(app));
      } else {
        c.Problem("apps." + std::string(name.str()), "must be a table");
      }
    }
  }
  if (cfg.apps.empty()) {
    c.Problem("apps", "at least one app is required ([apps.NAME])");
  }
  if (!cfg.default_app.empty() && cfg.FindApp(cfg.default_app) == nullptr) {
    c.Problem("default_app", "no app named \"" + cfg.default_app + "\"");
  }
  if (!c.ok()) {
    return std::unexpected(ConfigProblems{c.Take()});
  }
  return cfg;
}

std::expected<Config, ConfigProblems> LoadConfigFile(const std::string& path) {
  bool ok = false;
  std::string text = ReadFile(path, ok);
  if (!ok) {
    return std::unexpected(ConfigProblems{{path + ": cannot read the file"}});
  }
  auto base = std::filesystem::absolute(path).parent_path().string();
  return ParseConfig(text, base);
}

Config DevConfig(const std::string& listen, const std::string& data_dir) {
  Config cfg;
  cfg.dev = true;
  cfg.server.listen = listen;
  cfg.admin.listen = "127.0.0.1:0";  // a free port, shown in the banner
  cfg.store.path = data_dir + "/vendo.db";
  cfg.store.location.sqlite_path = cfg.store.path;
  cfg.store.master_key_file = data_dir + "/master.key";
  cfg.default_app = "anonymous-demo";
  AppConfig anon;
  anon.name = "anonymous-demo";
  anon.mode = Mode::kAnonymous;
  anon.app_name = "anonymous-demo";
  anon.policy = policy::DefaultDevPolicy(false);
  anon.allow_insecure_legacy = true;  // development, on loopback
  AppConfig ident;
  ident.name = "identity-demo";
  ident.mode = Mode::kIdentity;
  ident.app_name = "MyMobileAppName";
  ident.policy = policy::DefaultDevPolicy(true);
  ident.allow_insecure_legacy = true;
  // public_endpoint is filled in once the listener is bound (the port may be 0).
  cfg.apps = {anon, ident};
  return cfg;
}

}  // namespace vendo::server
