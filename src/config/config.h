// The server's configuration: one TOML file (docs/configuration.md lists every key), or the
// built-in development configuration of `vendo serve --dev`.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/app_config.h"
#include "http/http_options.h"
#include "store/location.h"

namespace vendo::server {

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  // The transport's own options (host and port come from `listen`); threads 0 = one per core.
  HttpServerOptions http = [] {
    HttpServerOptions o;
    o.threads = 0;
    o.handler_timeout = std::chrono::milliseconds(0);  // derived: Config::HandlerTimeout
    return o;
  }();
  std::string log_level = "info";
};

struct StoreConfig {
  std::string url;   // sqlite:///FILE or postgres://USER@HOST:PORT/DB (no password in it)
  std::string path;  // the SQLite file: shorthand for url = "sqlite://PATH"
  store::StoreLocation location;    // from url or path
  std::string password_file;        // PostgreSQL password (else PGPASSWORD or ~/.pgpass)
  std::size_t max_connections = 8;  // PostgreSQL connections per host
  // PostgreSQL: how long a host waits on it (see store::PgTimeouts) and for a pooled
  // connection. A request that needs the store fails within about pool_wait + connect +
  // statement; connect_timeout is at most statement_timeout unless it is set.
  std::chrono::milliseconds pool_wait{1000};
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds statement_timeout{3000};
  std::chrono::milliseconds tcp_user_timeout{10000};
  int keepalive_idle_seconds = 30;
  std::string master_key_file;
  std::size_t group_commit_max_batch = 256;
  std::chrono::milliseconds cache_ttl{1000};  // 0 disables the record cache
  std::size_t cache_max_entries = 100000;
};

struct CredentialCacheConfig {
  bool enabled = true;
  std::size_t max_entries = 100000;
  // How long a principal's failed issue is remembered (answered again without asking STS).
  std::chrono::milliseconds failure_ttl{1000};   // throttling, 5xx, timeouts
  std::chrono::milliseconds refused_ttl{30000};  // AccessDenied and other refusals
};

struct AuditConfig {
  std::string file;  // JSON lines appended here (0600); empty = stderr
};

// The admin listener: /metrics, /healthz, /readyz and the status page.
struct AdminConfig {
  std::string listen = "127.0.0.1:9090";  // "" turns it off
  // A file holding the bearer token requests must carry. Required when `listen` is not on
  // loopback; optional (but honoured) on loopback.
  std::string token_file;
  // TLS for the admin listener (both or neither), and a CA whose client certificates it
  // requires (needs TLS). A client CA stands in for the token beyond loopback.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
};

struct Config {
  ServerConfig server;
  AdminConfig admin;
  AuditConfig audit;
  StoreConfig store;
  CredentialCacheConfig credential_cache;
  std::string default_app;
  std::vector<AppConfig> apps;
  bool dev = false;

  const AppConfig* FindApp(std::string_view name) const;
  // server.handler_timeout_ms, or when it is not set, the longest a request may wait on its
  // dependencies with a second to spare: the store (a pooled connection, then two
  // statements) and the slowest app's issuer deadline.
  std::chrono::milliseconds HandlerTimeout() const;
};

// Every problem found, each naming its key: "apps.demo.mode: must be anonymous or identity".
struct ConfigProblems {
  std::vector<std::string> problems;
};

// Parses and validates a config file. On failure returns every problem, not just the first.
[[nodiscard]] std::expected<Config, ConfigProblems> LoadConfigFile(const std::string& path);
[[nodiscard]] std::expected<Config, ConfigProblems> ParseConfig(std::string_view toml_text,
                                                                const std::string& base_dir);

// The `--dev` configuration: an anonymous app "anonymous-demo" (the default app) and an
// identity app "identity-demo" (app name MyMobileAppName), data under `data_dir`.
Config DevConfig(const std::string& listen, const std::string& data_dir);

// Splits "host:port" (IPv6 as "[::1]:port"). Port may be 0.
std::optional<std::pair<std::string, std::uint16_t>> SplitHostPort(std::string_view listen);

}  // namespace vendo::server
