#include "config/config.h"

#include <toml++/toml.h>

#include <charconv>
#include <filesystem>
#include <fstream>

#include "config/parse_app.h"
#include "config/toml_reader.h"
#include "http/trusted_proxies.h"
#include "net/url.h"
#include "policy/template.h"

namespace vendo::server {
namespace {

using config_reader::Checker;
using config_reader::CheckUnknownKeys;
using config_reader::ReadDuration;
using config_reader::ReadFile;
using config_reader::ReadStringList;
using config_reader::Resolve;
using protocol::legacy::Mode;

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
        config_reader::ParseApp(c, std::string(name.str()), *t, base_dir, app);
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
