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

#include "crypto/password.h"
#include "protocol/legacy.h"
#include "server/http_server.h"
#include "server/limits.h"
#include "store/location.h"

namespace vendo::server {

// How an aws-federation or aws-assume-role issuer reaches STS, and as whom.
struct AwsIssuerConfig {
  std::string region = "us-east-1";  // signs requests; ${region} in policies
  std::string endpoint;              // URL; empty = https://sts.REGION.amazonaws.com
  std::string account_id;            // ${account_id} in policies
  std::string role_arn;              // aws-assume-role: the role devices get
  std::string external_id;           // aws-assume-role, optional
  std::string source_identity;       // aws-assume-role, optional name template
  bool session_tags = true;          // aws-assume-role: vendo:app, vendo:device, vendo:user
  std::string ca_file;               // PEM bundle; empty = the system trust store
  // vendo's own credentials: a key and a secret file, or a profile of the shared files;
  // neither = the default chain (environment, shared files, ECS, EC2 instance metadata).
  std::string access_key_id;
  std::string secret_access_key_file;
  std::string profile;
  std::chrono::milliseconds deadline{10000};  // per credential request, retries included
  int max_attempts = 4;
  // One exchange with STS; at most `deadline`.
  std::chrono::milliseconds attempt_timeout{5000};
};

struct AppConfig {
  std::string name;  // URL segment: /apps/NAME/...
  protocol::legacy::Mode mode = protocol::legacy::Mode::kAnonymous;
  std::string app_name;         // identity: the 2012 PARAM1 (lower-cased for salts and pages)
  std::string public_endpoint;  // URL the clients are configured with (identity salt)
  std::string issuer = "dev";   // dev, aws-federation or aws-assume-role
  AwsIssuerConfig aws;          // [apps.NAME.aws], for the aws-* issuers
  // STS Name / RoleSessionName template; empty = ${uid} (anonymous) or ${username} (identity).
  std::string session_name;
  std::chrono::seconds duration{86400};
  std::string_view SessionNameTemplate() const {
    if (!session_name.empty()) {
      return session_name;
    }
    return mode == protocol::legacy::Mode::kIdentity ? "${username}" : "${uid}";
  }
  std::string policy;  // template text (policy_file is read at load time)
  std::chrono::seconds timestamp_window{900};
  // The 2012 protocol sends keys and passwords in URLs: over plain HTTP only if this says so.
  bool allow_insecure_legacy = false;
  // Web pages on other sites that may call the v2 JSON endpoints from a browser
  // ("https://app.example.com"); a request from any other foreign Origin is refused (403).
  std::vector<std::string> allowed_origins;
  // Devices older than this get no more tokens (anonymous: register a new uid; identity: an
  // admin revokes and the user logs in on a new one). 0 = no limit.
  std::chrono::seconds max_device_age{0};
  LimitsConfig limits;          // [apps.NAME.limits]
  crypto::Argon2Params argon2;  // protocol v2 password hashing
};

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
std::expected<Config, ConfigProblems> LoadConfigFile(const std::string& path);
std::expected<Config, ConfigProblems> ParseConfig(std::string_view toml_text,
                                                  const std::string& base_dir);

// The `--dev` configuration: an anonymous app "anonymous-demo" (the default app) and an
// identity app "identity-demo" (app name MyMobileAppName), data under `data_dir`.
Config DevConfig(const std::string& listen, const std::string& data_dir);

// Splits "host:port" (IPv6 as "[::1]:port"). Port may be 0.
std::optional<std::pair<std::string, std::uint16_t>> SplitHostPort(std::string_view listen);

}  // namespace vendo::server
