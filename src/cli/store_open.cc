#include "cli/store_open.h"

#include "common/secret_file.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace vendo::cli {

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
