// The SQLite schema: its versioned migrations, and the step that brings a database up to
// the newest one at open.
#include "store/sqlite_schema.h"

#include <array>

#include "store/sqlite_store.h"

namespace vendo::store {
namespace {

// Versioned migrations: append only; never edit one that has shipped.
constexpr std::array<const char*, 5> kMigrations = {
    R"sql(
CREATE TABLE devices (
  app        TEXT NOT NULL,
  uid        TEXT NOT NULL,
  key_sealed TEXT NOT NULL,
  user_id    TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (app, uid)
) WITHOUT ROWID;
CREATE INDEX devices_by_user ON devices (app, user_id) WHERE user_id IS NOT NULL;
CREATE TABLE users (
  app             TEXT NOT NULL,
  username        TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  password_sealed TEXT NOT NULL,
  enabled         INTEGER NOT NULL DEFAULT 1,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (app, username)
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_by_id ON users (app, user_id);
)sql",
    // 2: device revocation.
    "ALTER TABLE devices ADD COLUMN revoked_at INTEGER;",
    // 3: abuse-limit counters.
    "CREATE TABLE counters (key TEXT PRIMARY KEY, window_end INTEGER NOT NULL, "
    "count INTEGER NOT NULL) WITHOUT ROWID;",
    // 4: registrations and vends per app and minute (vendo stats).
    "CREATE TABLE activity (app TEXT NOT NULL, minute INTEGER NOT NULL, "
    "registrations INTEGER NOT NULL, vends INTEGER NOT NULL, PRIMARY KEY (app, minute)) "
    "WITHOUT ROWID;",
    // 5: the claims a federated device was bound under (sealed).
    "ALTER TABLE devices ADD COLUMN claims_sealed TEXT;",
};

}  // namespace

int SqliteStore::LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

Status MigrateSqlite(Connection& conn, std::int64_t now) {
  VENDO_RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"));
  VENDO_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  auto fail = [&](Error e) -> Status {
    (void)conn.Exec("ROLLBACK");
    return std::unexpected(std::move(e));
  };
  auto stmt = conn.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!stmt) {
    return fail(stmt.error());
  }
  std::int64_t current = 0;
  {
    ScopedStatement s(*stmt);
    if (auto row = s->Step(); !row) {
      return fail(row.error());
    }
    current = s->Int(0);
  }
  if (current > static_cast<std::int64_t>(kMigrations.size())) {
    return fail(Error{ErrorCode::kFailedPrecondition,
                      "database schema version " + std::to_string(current) +
                          " is newer than this vendo knows; upgrade vendo"});
  }
  for (auto v = current; v < static_cast<std::int64_t>(kMigrations.size()); ++v) {
    if (auto ok = conn.Exec(kMigrations[static_cast<std::size_t>(v)]); !ok) {
      return fail(ok.error());
    }
    auto ins = conn.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
    if (!ins) {
      return fail(ins.error());
    }
    ScopedStatement s(*ins);
    s->Bind(1, v + 1).Bind(2, now);
    if (auto r = s->Step(); !r) {
      return fail(r.error());
    }
  }
  return conn.Exec("COMMIT");
}

}  // namespace vendo::store
