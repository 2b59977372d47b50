// MigrateSqlite: brings an SQLite database's schema up to the newest version this vendo
// knows (SqliteStore::LatestSchemaVersion), each migration recorded in schema_migrations.
#pragma once

#include <cstdint>

#include "store/sqlite_db.h"
#include "vendo/result.h"

namespace vendo::store {

// In one IMMEDIATE transaction; fails (changing nothing) when the database is newer than this
// vendo. `now`: seconds since the epoch, recorded with each migration.
[[nodiscard]] Status MigrateSqlite(Connection& conn, std::int64_t now);

}  // namespace vendo::store
