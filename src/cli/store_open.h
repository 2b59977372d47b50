// Opens the configured store (SQLite or PostgreSQL): for `vendo serve` and `vendo store`.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "config/config.h"
#include "crypto/secret_box.h"
#include "store/location.h"
#include "store/pg_conn.h"
#include "store/rows.h"
#include "store/store.h"

namespace vendo::cli {

struct StoreSettings {
  store::StoreLocation location;
  std::string password_file;                  // PostgreSQL; empty: PGPASSWORD or ~/.pgpass
  std::size_t max_batch = 256;                // SQLite group commit
  std::size_t max_connections = 8;            // PostgreSQL pool
  std::chrono::milliseconds pool_wait{1000};  // PostgreSQL: the longest wait for a connection
  store::PgTimeouts timeouts;                 // PostgreSQL
};

struct OpenedStore {
  std::unique_ptr<store::Store> store;
  store::RowAccess* rows = nullptr;  // the same object, for copies
  int schema_version = 0;
};

// The settings of a [store] table.
StoreSettings StoreSettingsOf(const server::StoreConfig& config);

// Opens the store and runs its migrations.
[[nodiscard]] Result<OpenedStore> OpenStore(const StoreSettings& settings,
                                            const crypto::SecretBox& box, const Clock& clock);

}  // namespace vendo::cli
