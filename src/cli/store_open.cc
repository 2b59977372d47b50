#include "cli/store_open.h"

#include "common/secret_file.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace vendo::cli {

StoreSettings StoreSettingsOf(const server::StoreConfig& c) {
  StoreSettings s;
  s.location = c.location;
  s.password_file = c.password_file;
  s.max_batch = c.group_commit_max_batch;
  s.max_connections = c.max_connections;
  s.pool_wait = c.pool_wait;
  s.timeouts.connect = c.connect_timeout;
  s.timeouts.statement = c.statement_timeout;
  s.timeouts.tcp_user_timeout = c.tcp_user_timeout;
  s.timeouts.keepalive_idle_seconds = c.keepalive_idle_seconds;
  return s;
}

Result<OpenedStore> OpenStore(const StoreSettings& settings, const crypto::SecretBox& box,
                              const Clock& clock) {
  OpenedStore opened;
  if (settings.location.kind == store::StoreLocation::Kind::kSqlite) {
    auto s =
        store::SqliteStore::Open({settings.location.sqlite_path, settings.max_batch}, box, clock);
    if (!s) {
      return std::unexpected(s.error());
    }
    opened.rows = s->get();
    opened.store = std::move(*s);
    opened.schema_version = store::SqliteStore::LatestSchemaVersion();
    return opened;
  }
  store::PostgresOptions options;
  options.url = settings.location.postgres_url;
  options.max_connections = settings.max_connections;
  options.acquire_timeout = settings.pool_wait;
  options.timeouts = settings.timeouts;
  if (!settings.password_file.empty()) {
    auto password = ReadSecretFile(settings.password_file);
    if (!password) {
      return std::unexpected(password.error());
    }
    options.password = std::move(*password);
  }
  auto s = store::PostgresStore::Open(std::move(options), box, clock);
  if (!s) {
    return std::unexpected(s.error());
  }
  opened.rows = s->get();
  opened.store = std::move(*s);
  opened.schema_version = store::PostgresStore::LatestSchemaVersion();
  return opened;
}

}  // namespace vendo::cli
