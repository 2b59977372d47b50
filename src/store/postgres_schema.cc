// The PostgreSQL schema: its versioned migrations (in step with SQLite's), and the step that
// brings a database up to the newest one at open, one host at a time.
#include <array>

#include "store/postgres_store.h"

namespace vendo::store {
namespace {

constexpr std::int64_t kMigrationLock = 0x76656e646f;  // "vendo": one advisory lock per database

// Versioned migrations, in step with SQLite's (same version numbers, same meaning): append
// only; never edit one that has shipped. Keys compare bytewise (COLLATE "C"), as in SQLite.
constexpr std::array<const char*, 5> kMigrations = {
    R"sql(
CREATE TABLE devices (
  app        TEXT COLLATE "C" NOT NULL,
  uid        TEXT COLLATE "C" NOT NULL,
  key_sealed TEXT NOT NULL,
  user_id    TEXT COLLATE "C",
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (app, uid)
);
CREATE INDEX devices_by_user ON devices (app, user_id) WHERE user_id IS NOT NULL;
CREATE TABLE users (
  app             TEXT COLLATE "C" NOT NULL,
  username        TEXT COLLATE "C" NOT NULL,
  user_id         TEXT COLLATE "C" NOT NULL,
  password_sealed TEXT NOT NULL,
  enabled         BOOLEAN NOT NULL DEFAULT TRUE,
  created_at      BIGINT NOT NULL,
  PRIMARY KEY (app, username)
);
CREATE UNIQUE INDEX users_by_id ON users (app, user_id);
)sql",
    // 2: device revocation.
    "ALTER TABLE devices ADD COLUMN revoked_at BIGINT;",
    // 3: abuse-limit counters.
    "CREATE TABLE counters (key TEXT COLLATE \"C\" PRIMARY KEY, window_end BIGINT NOT NULL, "
    "count BIGINT NOT NULL);",
    // 4: registrations and vends per app and minute (vendo stats).
    "CREATE TABLE activity (app TEXT COLLATE \"C\" NOT NULL, minute BIGINT NOT NULL, "
    "registrations BIGINT NOT NULL, vends BIGINT NOT NULL, PRIMARY KEY (app, minute));",
    // 5: the claims a federated device was bound under (sealed).
    "ALTER TABLE devices ADD COLUMN claims_sealed TEXT;",
};

}  // namespace

int PostgresStore::LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

Result<int> MigratePostgres(PgConnection& conn, std::int64_t now_seconds) {
  // Session-level advisory lock: a second host starting at the same moment waits here, then
  // finds the schema current and does nothing.
  auto locked = conn.Exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")");
  if (!locked) {
    return std::unexpected(locked.error());
  }
  auto run = [&]() -> Result<int> {
    VENDO_RETURN_IF_ERROR(
        conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                  " version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"));
    auto current = conn.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!current) {
      return std::unexpected(current.error());
    }
    int version = static_cast<int>(current->Int(0, 0));
    if (version > static_cast<int>(kMigrations.size())) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "database schema version " + std::to_string(version) +
                      " is newer than this vendo knows; upgrade vendo");
    }
    for (; version < static_cast<int>(kMigrations.size()); ++version) {
      // Each migration and its record commit together, or not at all.
      std::string step = std::string("BEGIN;") + kMigrations[static_cast<std::size_t>(version)] +
                         "INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                         std::to_string(version + 1) + ", " + std::to_string(now_seconds) +
                         ");COMMIT;";
      if (auto ok = conn.Exec(step); !ok) {
        (void)conn.Exec("ROLLBACK");
        return std::unexpected(ok.error());
      }
    }
    return version;
  };
  auto result = run();
  (void)conn.Exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
  return result;
}

}  // namespace vendo::store
