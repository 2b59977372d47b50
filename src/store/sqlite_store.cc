#include "store/sqlite_store.h"

#include <mutex>

#include "store/sqlite_schema.h"

namespace vendo::store {
namespace {

// Fails with `code` and `message` when a write changed no row.
Status Changed(const Result<int>& changes, ErrorCode code, const char* message) {
  if (!changes) {
    return std::unexpected(changes.error());
  }
  if (*changes == 0) {
    return Fail(code, message);
  }
  return {};
}

}  // namespace

std::string DeviceKeyContext(std::string_view app, std::string_view uid) {
  return "vendo/devices/" + std::string(app) + "/" + std::string(uid);
}

std::string DeviceClaimsContext(std::string_view app, std::string_view uid) {
  return "vendo/device-claims/" + std::string(app) + "/" + std::string(uid);
}

Result<SealedBoundDevice> SealBoundDevice(const crypto::SecretBox& box, std::string_view app,
                                          std::string_view uid, const SecretString& key,
                                          const SecretString& claims) {
  auto sealed_key = box.Seal(key.Reveal(), DeviceKeyContext(app, uid));
  if (!sealed_key) {
    return std::unexpected(sealed_key.error());
  }
  auto sealed_claims = box.Seal(claims.Reveal(), DeviceClaimsContext(app, uid));
  if (!sealed_claims) {
    return std::unexpected(sealed_claims.error());
  }
  return SealedBoundDevice{std::move(*sealed_key), std::move(*sealed_claims)};
}

std::string PasswordContext(std::string_view app, std::string_view user_id) {
  return "vendo/users/" + std::string(app) + "/" + std::string(user_id);
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options,
                                                       const crypto::SecretBox& box,
                                                       const Clock& clock) {
  // Memory statistics put a process-wide mutex around every SQLite allocation; the network
  // threads met on it in the /gettoken profile. Must precede sqlite3_initialize.
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  auto writer = Connection::Open(options.path);
  if (!writer) {
    return std::unexpected(writer.error());
  }
  auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch());
  VENDO_RETURN_IF_ERROR(MigrateSqlite(**writer, now.count()));
  return std::unique_ptr<SqliteStore>(new SqliteStore(options, box, clock, std::move(*writer)));
}

SqliteStore::SqliteStore(SqliteOptions options, const crypto::SecretBox& box, const Clock& clock,
                         std::unique_ptr<Connection> writer)
    : options_(std::move(options)),
      box_(box),
      clock_(clock),
      writer_(std::move(writer), options_.max_batch) {}

std::int64_t SqliteStore::NowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
}

template <class Fn>
auto SqliteStore::WithReader(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!conn) {
    auto opened = Connection::Open(options_.path);
    if (!opened) {
      return std::unexpected(opened.error());
    }
    conn = std::move(*opened);
  }
  auto result = fn(*conn);
  std::lock_guard lock(readers_mu_);
  idle_readers_.push_back(std::move(conn));
  return result;
}

Status SqliteStore::CreateDevice(std::string_view app, std::string_view uid,
                                 const SecretString& key) {
  // Seal outside the commit queue: the critical section holds only the SQL.
  auto sealed = box_.Seal(key.Reveal(), DeviceKeyContext(app, uid));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::int64_t now = NowSeconds();
  return writer_.Run([&](Connection& c) -> Status {
    return Changed(
        RunStatement(c,
                     "INSERT INTO devices (app, uid, key_sealed, user_id, created_at, updated_at) "
                     "VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT (app, uid) DO NOTHING",
                     [&](Statement& st) {
                       st.Bind(1, app).Bind(2, uid).Bind(3, *sealed).Bind(4, now).Bind(5, now);
                     }),
        ErrorCode::kAlreadyExists, "device already registered");
  });
}

Result<DeviceRecord> SqliteStore::FindDevice(std::string_view app, std::string_view uid) {
  return WithReader([&](Connection& c) -> Result<DeviceRecord> {
    auto stmt = c.Prepare(
        "SELECT key_sealed, user_id, created_at, revoked_at, claims_sealed FROM devices "
        "WHERE app = ? AND uid = ?");
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    ScopedStatement s(*stmt);
    s->Bind(1, app).Bind(2, uid);
    auto row = s->Step();
    if (!row) {
      return std::unexpected(row.error());
    }
    if (!*row) {
      return Fail(ErrorCode::kNotFound, "no such device");
    }
    auto key = box_.Open(s->Text(0), DeviceKeyContext(app, uid));
    if (!key) {
      return std::unexpected(key.error());
    }
    DeviceRecord device{std::string(app),
                        std::string(uid),
                        std::move(*key),
                        s->OptionalText(1),
                        s->Int(2),
                        s->OptionalText(3).has_value(),
                        {}};
    if (auto sealed = s->OptionalText(4)) {
      auto claims = box_.Open(*sealed, DeviceClaimsContext(app, uid));
      if (!claims) {
        return std::unexpected(claims.error());
      }
      device.claims = std::move(*claims);
    }
    return device;
  });
}

Status SqliteStore::CreateBoundDevice(std::string_view app, std::string_view uid,
                                      std::string_view user_id, const SecretString& key,
                                      const SecretString& claims) {
  auto sealed = SealBoundDevice(box_, app, uid, key, claims);
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::int64_t now = NowSeconds();
  return writer_.Run([&](Connection& c) -> Status {
    return Changed(
        RunStatement(
            c,
            "INSERT INTO devices (app, uid, key_sealed, user_id, created_at, updated_at, "
            "claims_sealed) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, uid) DO NOTHING",
            [&](Statement& st) {
              st.Bind(1, app).Bind(2, uid).Bind(3, sealed->key).Bind(4, user_id);
              st.Bind(5, now).Bind(6, now).Bind(7, sealed->claims);
            }),
        ErrorCode::kAlreadyExists, "device already registered");
  });
}

Status SqliteStore::BindDevice(std::string_view app, std::string_view uid, std::string_view user_id,
                               const SecretString& key) {
  auto sealed = box_.Seal(key.Reveal(), DeviceKeyContext(app, uid));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::int64_t now = NowSeconds();
  return writer_.Run([&](Connection& c) -> Status {
    auto owner = c.Prepare("SELECT user_id, revoked_at FROM devices WHERE app = ? AND uid = ?");
    if (!owner) {
      return std::unexpected(owner.error());
    }
    {
      ScopedStatement s(*owner);
      s->Bind(1, app).Bind(2, uid);
      auto row = s->Step();
      if (!row) {
        return std::unexpected(row.error());
      }
      if (*row && s->OptionalText(0) != std::optional<std::string>(std::string(user_id))) {
        return Fail(ErrorCode::kFailedPrecondition, "device belongs to another user");
      }
      if (*row && s->OptionalText(1)) {
        return Fail(ErrorCode::kFailedPrecondition, "device is revoked");
      }
    }
    auto upserted =
        RunStatement(c,
                     "INSERT INTO devices (app, uid, key_sealed, user_id, created_at, "
                     "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (app, uid) DO UPDATE "
                     "SET key_sealed = excluded.key_sealed, updated_at = excluded.updated_at",
                     [&](Statement& st) {
                       st.Bind(1, app).Bind(2, uid).Bind(3, *sealed).Bind(4, user_id);
                       st.Bind(5, now).Bind(6, now);
                     });
    if (!upserted) {
      return std::unexpected(upserted.error());
    }
    return {};
  });
}

Status SqliteStore::SetDeviceKey(std::string_view app, std::string_view uid,
                                 const SecretString& key) {
  auto sealed = box_.Seal(key.Reveal(), DeviceKeyContext(app, uid));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::int64_t now = NowSeconds();
  return writer_.Run([&](Connection& c) -> Status {
    return Changed(RunStatement(c,
                                "UPDATE devices SET key_sealed = ?, updated_at = ? "
                                "WHERE app = ? AND uid = ? AND revoked_at IS NULL",
                                [&](Statement& st) {
                                  st.Bind(1, *sealed).Bind(2, now).Bind(3, app).Bind(4, uid);
                                }),
                   ErrorCode::kNotFound, "no such device");
  });
}

Status SqliteStore::RevokeDevice(std::string_view app, std::string_view uid) {
  std::int64_t now = NowSeconds();
  return writer_.Run([&](Connection& c) -> Status {
    return Changed(
        RunStatement(
            c,
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?), updated_at = ? "
            "WHERE app = ? AND uid = ?",
            [&](Statement& st) { st.Bind(1, now).Bind(2, now).Bind(3, app).Bind(4, uid); }),
        ErrorCode::kNotFound, "no such device");
  });
}

Status SqliteStore::DeleteDevice(std::string_view app, std::string_view uid) {
  return writer_.Run([&](Connection& c) -> Status {
    return Changed(RunStatement(c, "DELETE FROM devices WHERE app = ? AND uid = ?",
                                [&](Statement& st) { st.Bind(1, app).Bind(2, uid); }),
                   ErrorCode::kNotFound, "no such device");
  });
}

Result<Store::WindowCount> SqliteStore::CountEvent(std::string_view key,
                                                   std::chrono::seconds window) {
  std::int64_t now = NowSeconds();
  WindowCount out;
  auto ok = writer_.Run([&](Connection& c) -> Status {
    auto stmt = c.Prepare(
        "INSERT INTO counters (key, window_end, count) VALUES (?1, ?2 + ?3, 1) "
        "ON CONFLICT (key) DO UPDATE SET "
        "count = CASE WHEN counters.window_end <= ?2 THEN 1 ELSE counters.count + 1 END, "
        "window_end = CASE WHEN counters.window_end <= ?2 THEN ?2 + ?3 "
        "ELSE counters.window_end END RETURNING count, window_end");
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    ScopedStatement s(*stmt);
    s->Bind(1, key).Bind(2, now).Bind(3, static_cast<std::int64_t>(window.count()));
    auto row = s->Step();
    if (!row) {
      return std::unexpected(row.error());
    }
    out = {s->Int(0), s->Int(1)};
    return {};
  });
  if (!ok) {
    return std::unexpected(ok.error());
  }
  if (PurgeDue(last_purge_, now)) {
    (void)PurgeExpiredCounters();  // the count stands either way; the next minute retries
  }
  return out;
}

Result<Store::WindowCount> SqliteStore::PeekCount(std::string_view key) {
  std::int64_t now = NowSeconds();
  return WithReader([&](Connection& c) -> Result<WindowCount> {
    auto stmt =
        c.Prepare("SELECT count, window_end FROM counters WHERE key = ? AND window_end > ?");
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    ScopedStatement s(*stmt);
    s->Bind(1, key).Bind(2, now);
    auto row = s->Step();
    if (!row) {
      return std::unexpected(row.error());
    }
    return *row ? WindowCount{s->Int(0), s->Int(1)} : WindowCount{};
  });
}

Status SqliteStore::ResetCount(std::string_view key) {
  return writer_.Run([&](Connection& c) -> Status {
    auto n = RunStatement(c, "DELETE FROM counters WHERE key = ?",
                          [&](Statement& st) { st.Bind(1, key); });
    if (!n) {
      return std::unexpected(n.error());
    }
    return {};
  });
}

Result<std::int64_t> SqliteStore::PurgeExpiredCounters() {
  std::int64_t now = NowSeconds();
  std::int64_t purged = 0;
  auto ok = writer_.Run([&](Connection& c) -> Status {
    auto n = RunStatement(c, "DELETE FROM counters WHERE window_end <= ?",
                          [&](Statement& st) { st.Bind(1, now); });
    if (!n) {
      return std::unexpected(n.error());
    }
    purged = *n;
    return {};
  });
  if (!ok) {
    return std::unexpected(ok.error());
  }
  last_purge_.store(now, std::memory_order_relaxed);
  return purged;
}

Status SqliteStore::UncountEvent(std::string_view key) {
  std::int64_t now = NowSeconds();
  return writer_.Run([&](Connection& c) -> Status {
    auto n = RunStatement(c,
                          "UPDATE counters SET count = count - 1 "
                          "WHERE key = ? AND window_end > ? AND count > 0",
                          [&](Statement& st) { st.Bind(1, key).Bind(2, now); });
    if (!n) {
      return std::unexpected(n.error());
    }
    return {};
  });
}

Status SqliteStore::CreateUser(std::string_view app, std::string_view username,
                               std::string_view user_id, const SecretString& password_hash) {
  auto sealed = box_.Seal(password_hash.Reveal(), PasswordContext(app, user_id));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::int64_t now = NowSeconds();
  return writer_.Run([&](Connection& c) -> Status {
    return Changed(
        RunStatement(c,
                     "INSERT INTO users (app, username, user_id, password_sealed, enabled, "
                     "created_at) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT DO NOTHING",
                     [&](Statement& st) {
                       st.Bind(1, app).Bind(2, username).Bind(3, user_id).Bind(4, *sealed);
                       st.Bind(5, now);
                     }),
        ErrorCode::kAlreadyExists, "username already registered");
  });
}

Result<UserRecord> SqliteStore::ReadUser(Statement* stmt) {
  auto row = stmt->Step();
  if (!row) {
    return std::unexpected(row.error());
  }
  if (!*row) {
    return Fail(ErrorCode::kNotFound, "no such user");
  }
  UserRecord user;
  user.app = stmt->Text(0);
  user.username = stmt->Text(1);
  user.user_id = stmt->Text(2);
  user.enabled = stmt->Int(4) != 0;
  auto hash = box_.Open(stmt->Text(3), PasswordContext(user.app, user.user_id));
  if (!hash) {
    return std::unexpected(hash.error());
  }
  user.password_hash = std::move(*hash);
  return user;
}

Result<UserRecord> SqliteStore::FindUserWhere(const char* sql, std::string_view app,
                                              std::string_view key) {
  return WithReader([&](Connection& c) -> Result<UserRecord> {
    auto stmt = c.Prepare(sql);
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    ScopedStatement s(*stmt);
    s->Bind(1, app).Bind(2, key);
    return ReadUser(*stmt);
  });
}

Result<UserRecord> SqliteStore::FindUser(std::string_view app, std::string_view username) {
  return FindUserWhere(
      "SELECT app, username, user_id, password_sealed, enabled FROM users "
      "WHERE app = ? AND username = ?",
      app, username);
}

Result<UserRecord> SqliteStore::FindUserById(std::string_view app, std::string_view user_id) {
  return FindUserWhere(
      "SELECT app, username, user_id, password_sealed, enabled FROM users "
      "WHERE app = ? AND user_id = ?",
      app, user_id);
}

Status SqliteStore::SetUserEnabled(std::string_view app, std::string_view username, bool enabled) {
  return writer_.Run([&](Connection& c) -> Status {
    return Changed(
        RunStatement(c, "UPDATE users SET enabled = ? WHERE app = ? AND username = ?",
                     [&](Statement& st) {
                       st.Bind(1, std::int64_t{enabled ? 1 : 0}).Bind(2, app).Bind(3, username);
                     }),
        ErrorCode::kNotFound, "no such user");
  });
}

Status SqliteStore::DeleteUser(std::string_view app, std::string_view username) {
  return writer_.Run([&](Connection& c) -> Status {
    return Changed(RunStatement(c, "DELETE FROM users WHERE app = ? AND username = ?",
                                [&](Statement& st) { st.Bind(1, app).Bind(2, username); }),
                   ErrorCode::kNotFound, "no such user");
  });
}

Status SqliteStore::Ping() {
  return WithReader([](Connection& c) -> Status {
    auto stmt = c.Prepare("SELECT 1");
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    ScopedStatement s(*stmt);
    auto row = s->Step();
    if (!row) {
      return std::unexpected(row.error());
    }
    return {};
  });
}

Result<std::int64_t> SqliteStore::CountWhereApp(const char* sql, std::string_view app) {
  return WithReader([&](Connection& c) -> Result<std::int64_t> {
    auto stmt = c.Prepare(sql);
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    ScopedStatement s(*stmt);
    s->Bind(1, app);
    auto row = s->Step();
    if (!row) {
      return std::unexpected(row.error());
    }
    return s->Int(0);
  });
}

Result<std::int64_t> SqliteStore::CountDevices(std::string_view app) {
  return CountWhereApp("SELECT COUNT(*) FROM devices WHERE app = ?", app);
}

Result<std::int64_t> SqliteStore::CountUsers(std::string_view app) {
  return CountWhereApp("SELECT COUNT(*) FROM users WHERE app = ?", app);
}

Status SqliteStore::AddActivity(std::string_view app, std::int64_t minute, ActivityCounts add) {
  return writer_.Run([&](Connection& c) -> Status {
    auto n = RunStatement(
        c,
        "INSERT INTO activity (app, minute, registrations, vends) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (app, minute) DO UPDATE SET "
        "registrations = registrations + excluded.registrations, "
        "vends = vends + excluded.vends",
        [&](Statement& st) {
          st.Bind(1, app).Bind(2, minute).Bind(3, add.registrations).Bind(4, add.vends);
        });
    if (!n) {
      return std::unexpected(n.error());
    }
    n = RunStatement(c, "DELETE FROM activity WHERE app = ? AND minute < ?", [&](Statement& st) {
      st.Bind(1, app).Bind(2, minute - kActivityKeptMinutes);
    });
    if (!n) {
      return std::unexpected(n.error());
    }
    return {};
  });
}

Result<Store::ActivityCounts> SqliteStore::ActivitySince(std::string_view app,
                                                         std::int64_t since_minute) {
  return WithReader([&](Connection& c) -> Result<ActivityCounts> {
    auto stmt = c.Prepare(
        "SELECT COALESCE(SUM(registrations), 0), COALESCE(SUM(vends), 0) FROM activity "
        "WHERE app = ? AND minute >= ?");
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    ScopedStatement s(*stmt);
    s->Bind(1, app).Bind(2, since_minute);
    auto row = s->Step();
    if (!row) {
      return std::unexpected(row.error());
    }
    return ActivityCounts{s->Int(0), s->Int(1)};
  });
}

template <class Row, class MakeRow>
Result<std::vector<Row>> SqliteStore::ReadPage(const char* sql,
                                               std::initializer_list<std::string_view> keys,
                                               std::size_t limit, MakeRow&& make_row) {
  return WithReader([&](Connection& c) -> Result<std::vector<Row>> {
    auto stmt = c.Prepare(sql);
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    ScopedStatement s(*stmt);
    int at = 1;
    for (std::string_view key : keys) {
      s->Bind(at++, key);
    }
    s->Bind(at, static_cast<std::int64_t>(limit));
    std::vector<Row> rows;
    for (;;) {
      auto row = s->Step();
      if (!row) {
        return std::unexpected(row.error());
      }
      if (!*row) {
        return rows;
      }
      rows.push_back(make_row(**stmt));
    }
  });
}

namespace {

// A device row from the columns app, uid, key_sealed, user_id, created_at, updated_at,
// revoked_at, claims_sealed.
DeviceRow DeviceRowOf(Statement& s) {
  std::optional<std::int64_t> revoked;
  if (s.OptionalText(6)) {
    revoked = s.Int(6);
  }
  return DeviceRow{s.Text(0), s.Text(1), s.Text(2), s.OptionalText(3),
                   s.Int(4),  s.Int(5),  revoked,   s.OptionalText(7)};
}

}  // namespace

Result<std::vector<DeviceRow>> SqliteStore::DevicesAfter(const RowKey& after, std::size_t limit) {
  return ReadPage<DeviceRow>(
      "SELECT app, uid, key_sealed, user_id, created_at, updated_at, revoked_at, claims_sealed "
      "FROM devices "
      "WHERE (app, uid) > (?, ?) ORDER BY app, uid LIMIT ?",
      {after.first, after.second}, limit, DeviceRowOf);
}

Result<std::vector<DeviceRow>> SqliteStore::UserDevicesAfter(std::string_view app,
                                                             std::string_view user_id,
                                                             std::string_view after_uid,
                                                             std::size_t limit) {
  return ReadPage<DeviceRow>(
      "SELECT app, uid, key_sealed, user_id, created_at, updated_at, revoked_at, claims_sealed "
      "FROM devices "
      "WHERE app = ? AND user_id = ? AND uid > ? ORDER BY uid LIMIT ?",
      {app, user_id, after_uid}, limit, DeviceRowOf);
}

Result<std::vector<UserRow>> SqliteStore::UsersAfter(const RowKey& after, std::size_t limit) {
  return ReadPage<UserRow>(
      "SELECT app, username, user_id, password_sealed, enabled, created_at FROM users "
      "WHERE (app, username) > (?, ?) ORDER BY app, username LIMIT ?",
      {after.first, after.second}, limit, [](Statement& s) {
        return UserRow{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4) != 0, s.Int(5)};
      });
}

template <class Row, class Bind>
Result<std::int64_t> SqliteStore::InsertAll(std::span<const Row> rows, const char* sql,
                                            Bind&& bind) {
  std::int64_t inserted = 0;
  auto ok = writer_.Run([&](Connection& c) -> Status {
    inserted = 0;
    for (const Row& row : rows) {
      auto n = RunStatement(c, sql, [&](Statement& st) { bind(st, row); });
      if (!n) {
        return std::unexpected(n.error());
      }
      inserted += *n;
    }
    return {};
  });
  if (!ok) {
    return std::unexpected(ok.error());
  }
  return inserted;
}

Result<std::int64_t> SqliteStore::InsertDevices(std::span<const DeviceRow> rows) {
  return InsertAll(rows,
                   "INSERT INTO devices (app, uid, key_sealed, user_id, created_at, updated_at, "
                   "revoked_at, claims_sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (app, uid) DO NOTHING",
                   [](Statement& st, const DeviceRow& d) {
                     st.Bind(1, d.app).Bind(2, d.uid).Bind(3, d.key_sealed);
                     if (d.user_id) {
                       st.Bind(4, *d.user_id);
                     } else {
                       st.BindNull(4);
                     }
                     st.Bind(5, d.created_at).Bind(6, d.updated_at);
                     if (d.revoked_at) {
                       st.Bind(7, *d.revoked_at);
                     } else {
                       st.BindNull(7);
                     }
                     if (d.claims_sealed) {
                       st.Bind(8, *d.claims_sealed);
                     } else {
                       st.BindNull(8);
                     }
                   });
}

Result<std::int64_t> SqliteStore::InsertUsers(std::span<const UserRow> rows) {
  return InsertAll(rows,
                   "INSERT INTO users (app, username, user_id, password_sealed, enabled, "
                   "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   [](Statement& st, const UserRow& u) {
                     st.Bind(1, u.app).Bind(2, u.username).Bind(3, u.user_id);
                     st.Bind(4, u.password_sealed).Bind(5, std::int64_t{u.enabled ? 1 : 0});
                     st.Bind(6, u.created_at);
                   });
}

}  // namespace vendo::store
