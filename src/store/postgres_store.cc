#include "store/postgres_store.h"

#include "store/sqlite_store.h"  // DeviceKeyContext and the other contexts: the same sealing

namespace vendo::store {
namespace {

const PgStatement kInsertDevice{
    "insert_device",
    "INSERT INTO devices (app, uid, key_sealed, user_id, created_at, updated_at) "
    "VALUES ($1, $2, $3, NULL, $4, $4) ON CONFLICT (app, uid) DO NOTHING"};
const PgStatement kInsertBoundDevice{
    "insert_bound_device",
    "INSERT INTO devices (app, uid, key_sealed, user_id, created_at, updated_at, claims_sealed) "
    "VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (app, uid) DO NOTHING"};
const PgStatement kFindDevice{"find_device",
                              "SELECT key_sealed, user_id, created_at, revoked_at, claims_sealed "
                              "FROM devices WHERE app = $1 AND uid = $2"};
const PgStatement kSetDeviceKey{"set_device_key",
                                "UPDATE devices SET key_sealed = $3, updated_at = $4 "
                                "WHERE app = $1 AND uid = $2 AND revoked_at IS NULL"};
const PgStatement kRevokeDevice{
    "revoke_device",
    "UPDATE devices SET revoked_at = COALESCE(revoked_at, $3), updated_at = $3 "
    "WHERE app = $1 AND uid = $2"};
const PgStatement kDeleteDevice{"delete_device", "DELETE FROM devices WHERE app = $1 AND uid = $2"};
// Creates the device, or replaces its key if it is already this user's; a device of another
// user (or an anonymous one) is left alone and changes no row. One statement: no race.
const PgStatement kBindDevice{
    "bind_device",
    "INSERT INTO devices (app, uid, key_sealed, user_id, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (app, uid) DO UPDATE "
    "SET key_sealed = excluded.key_sealed, updated_at = excluded.updated_at "
    "WHERE devices.user_id = excluded.user_id AND devices.revoked_at IS NULL"};
const PgStatement kInsertUser{
    "insert_user",
    "INSERT INTO users (app, username, user_id, password_sealed, enabled, created_at) "
    "VALUES ($1, $2, $3, $4, TRUE, $5) ON CONFLICT DO NOTHING"};
const PgStatement kFindUser{"find_user",
                            "SELECT app, username, user_id, password_sealed, enabled FROM users "
                            "WHERE app = $1 AND username = $2"};
const PgStatement kFindUserById{"find_user_by_id",
                                "SELECT app, username, user_id, password_sealed, enabled FROM "
                                "users WHERE app = $1 AND user_id = $2"};
const PgStatement kSetEnabled{"set_user_enabled",
                              "UPDATE users SET enabled = $3 WHERE app = $1 AND username = $2"};
const PgStatement kDeleteUser{"delete_user", "DELETE FROM users WHERE app = $1 AND username = $2"};
const PgStatement kPing{"ping", "SELECT 1"};
const PgStatement kCountEvent{
    "count_event",
    "INSERT INTO counters (key, window_end, count) VALUES ($1, $2::bigint + $3::bigint, 1) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN counters.window_end <= $2::bigint THEN 1 ELSE counters.count + 1 END, "
    "window_end = CASE WHEN counters.window_end <= $2::bigint THEN $2::bigint + $3::bigint "
    "ELSE counters.window_end END RETURNING count, window_end"};
const PgStatement kPeekCount{
    "peek_count", "SELECT count, window_end FROM counters WHERE key = $1 AND window_end > $2"};
const PgStatement kResetCount{"reset_count", "DELETE FROM counters WHERE key = $1"};
const PgStatement kPurgeCounters{"purge_counters",
                                 "DELETE FROM counters WHERE window_end <= $1::bigint"};
const PgStatement kUncountEvent{
    "uncount_event",
    "UPDATE counters SET count = count - 1 WHERE key = $1 AND window_end > $2 AND count > 0"};
const PgStatement kAddActivity{
    "add_activity",
    "WITH added AS (INSERT INTO activity (app, minute, registrations, vends) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (app, minute) DO UPDATE SET "
    "registrations = activity.registrations + excluded.registrations, "
    "vends = activity.vends + excluded.vends RETURNING 1) "
    "DELETE FROM activity WHERE app = $1 AND minute < $5"};
const PgStatement kActivitySince{
    "activity_since",
    "SELECT COALESCE(SUM(registrations), 0), COALESCE(SUM(vends), 0) FROM activity "
    "WHERE app = $1 AND minute >= $2"};
const PgStatement kCountDevices{"count_devices", "SELECT COUNT(*) FROM devices WHERE app = $1"};
const PgStatement kCountUsers{"count_users", "SELECT COUNT(*) FROM users WHERE app = $1"};

const PgStatement kDevicesAfter{
    "devices_after",
    "SELECT app, uid, key_sealed, user_id, created_at, updated_at, revoked_at, claims_sealed "
    "FROM devices "
    "WHERE (app, uid) > ($1, $2) ORDER BY app, uid LIMIT $3"};
const PgStatement kUserDevicesAfter{
    "user_devices_after",
    "SELECT app, uid, key_sealed, user_id, created_at, updated_at, revoked_at, claims_sealed "
    "FROM devices "
    "WHERE app = $1 AND user_id = $2 AND uid > $3 ORDER BY uid LIMIT $4"};
const PgStatement kUsersAfter{
    "users_after",
    "SELECT app, username, user_id, password_sealed, enabled, created_at FROM users "
    "WHERE (app, username) > ($1, $2) ORDER BY app, username LIMIT $3"};
const PgStatement kInsertDeviceRow{
    "insert_device_row",
    "INSERT INTO devices (app, uid, key_sealed, user_id, created_at, updated_at, revoked_at, "
    "claims_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (app, uid) DO NOTHING"};
const PgStatement kInsertUserRow{
    "insert_user_row",
    "INSERT INTO users (app, username, user_id, password_sealed, enabled, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"};

Status Changed(const Result<PgResult>& r, ErrorCode code, const char* message) {
  if (!r) {
    return std::unexpected(r.error());
  }
  if (r->Affected() == 0) {
    return Fail(code, message);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(PostgresOptions options,
                                                           const crypto::SecretBox& box,
                                                           const Clock& clock) {
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(options), box, clock));
  // Migrations may wait for another host's (the advisory lock) and may run long: their own
  // connection has no statement timeout, and is closed afterwards rather than pooled.
  PgTimeouts migrating = store->options_.timeouts;
  migrating.statement = std::chrono::milliseconds(0);
  auto conn = PgConnection::Connect(store->options_.url, store->options_.password, migrating);
  if (!conn) {
    return std::unexpected(conn.error());
  }
  auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch());
  auto migrated = MigratePostgres(**conn, now.count());
  if (!migrated) {
    return std::unexpected(migrated.error());
  }
  return store;
}

std::string PostgresStore::Now() const {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count());
}

Result<std::unique_ptr<PgConnection>> PostgresStore::Acquire() {
  {
    std::unique_lock lock(mu_);
    bool ready = freed_.wait_for(lock, options_.acquire_timeout, [this] {
      return !idle_.empty() || open_ < options_.max_connections;
    });
    if (!ready) {
      return Fail(ErrorCode::kUnavailable,
                  "postgres: all " + std::to_string(options_.max_connections) +
                      " connections busy for " + std::to_string(options_.acquire_timeout.count()) +
                      " ms");
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;  // reserve the slot; connect outside the lock
  }
  auto conn = PgConnection::Connect(options_.url, options_.password, options_.timeouts);
  if (!conn) {
    std::lock_guard lock(mu_);
    --open_;
    freed_.notify_one();
  }
  return conn;
}

void PostgresStore::Release(std::unique_ptr<PgConnection> conn) {
  std::lock_guard lock(mu_);
  if (conn->Broken()) {
    --open_;  // dropped: the next Acquire opens a fresh one
  } else {
    idle_.push_back(std::move(conn));
  }
  freed_.notify_one();
}

template <class Fn>
auto PostgresStore::WithConnection(bool retry_stale, Fn&& fn)
    -> decltype(fn(std::declval<PgConnection&>())) {
  for (int attempt = 0;; ++attempt) {
    auto conn = Acquire();
    if (!conn) {
      return std::unexpected(conn.error());
    }
    auto result = fn(**conn);
    bool broke = (*conn)->Broken();
    Release(std::move(*conn));
    // A statement that timed out found the server slow, not the connection stale: trying
    // again would only double the wait.
    if (result || !broke || !retry_stale || attempt > 0 ||
        result.error().code == ErrorCode::kDeadlineExceeded) {
      return result;
    }
  }
}

Status PostgresStore::CreateDevice(std::string_view app, std::string_view uid,
                                   const SecretString& key) {
  auto sealed = box_.Seal(key.Reveal(), DeviceKeyContext(app, uid));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::string now = Now();
  return WithConnection(false, [&](PgConnection& c) -> Status {
    return Changed(c.Query(kInsertDevice, {app, uid, *sealed, now}), ErrorCode::kAlreadyExists,
                   "device already registered");
  });
}

Result<DeviceRecord> PostgresStore::FindDevice(std::string_view app, std::string_view uid) {
  return WithConnection(true, [&](PgConnection& c) -> Result<DeviceRecord> {
    auto r = c.Query(kFindDevice, {app, uid});
    if (!r) {
      return std::unexpected(r.error());
    }
    if (r->Rows() == 0) {
      return Fail(ErrorCode::kNotFound, "no such device");
    }
    auto key = box_.Open(r->Text(0, 0), DeviceKeyContext(app, uid));
    if (!key) {
      return std::unexpected(key.error());
    }
    DeviceRecord device{std::string(app),
                        std::string(uid),
                        std::move(*key),
                        r->OptionalText(0, 1),
                        r->Int(0, 2),
                        !r->IsNull(0, 3),
                        {}};
    if (!r->IsNull(0, 4)) {
      auto claims = box_.Open(r->Text(0, 4), DeviceClaimsContext(app, uid));
      if (!claims) {
        return std::unexpected(claims.error());
      }
      device.claims = std::move(*claims);
    }
    return device;
  });
}

Status PostgresStore::CreateBoundDevice(std::string_view app, std::string_view uid,
                                        std::string_view user_id, const SecretString& key,
                                        const SecretString& claims) {
  auto sealed = SealBoundDevice(box_, app, uid, key, claims);
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::string now = Now();
  return WithConnection(false, [&](PgConnection& c) -> Status {
    return Changed(
        c.Query(kInsertBoundDevice, {app, uid, sealed->key, user_id, now, sealed->claims}),
        ErrorCode::kAlreadyExists, "device already registered");
  });
}

Status PostgresStore::BindDevice(std::string_view app, std::string_view uid,
                                 std::string_view user_id, const SecretString& key) {
  auto sealed = box_.Seal(key.Reveal(), DeviceKeyContext(app, uid));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::string now = Now();
  return WithConnection(false, [&](PgConnection& c) -> Status {
    return Changed(c.Query(kBindDevice, {app, uid, *sealed, user_id, now}),
                   ErrorCode::kFailedPrecondition, "device belongs to another user or is revoked");
  });
}

Status PostgresStore::SetDeviceKey(std::string_view app, std::string_view uid,
                                   const SecretString& key) {
  auto sealed = box_.Seal(key.Reveal(), DeviceKeyContext(app, uid));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::string now = Now();
  return WithConnection(false, [&](PgConnection& c) -> Status {
    return Changed(c.Query(kSetDeviceKey, {app, uid, *sealed, now}), ErrorCode::kNotFound,
                   "no such device");
  });
}

Status PostgresStore::RevokeDevice(std::string_view app, std::string_view uid) {
  std::string now = Now();
  return WithConnection(false, [&](PgConnection& c) -> Status {
    return Changed(c.Query(kRevokeDevice, {app, uid, now}), ErrorCode::kNotFound, "no such device");
  });
}

Status PostgresStore::DeleteDevice(std::string_view app, std::string_view uid) {
  return WithConnection(false, [&](PgConnection& c) -> Status {
    return Changed(c.Query(kDeleteDevice, {app, uid}), ErrorCode::kNotFound, "no such device");
  });
}

Status PostgresStore::CreateUser(std::string_view app, std::string_view username,
                                 std::string_view user_id, const SecretString& password_hash) {
  auto sealed = box_.Seal(password_hash.Reveal(), PasswordContext(app, user_id));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  std::string now = Now();
  return WithConnection(false, [&](PgConnection& c) -> Status {
    return Changed(c.Query(kInsertUser, {app, username, user_id, *sealed, now}),
                   ErrorCode::kAlreadyExists, "username already registered");
  });
}

Result<UserRecord> PostgresStore::FindUserBy(const PgStatement& stmt, std::string_view app,
                                             std::string_view key) {
  return WithConnection(true, [&](PgConnection& c) -> Result<UserRecord> {
    auto r = c.Query(stmt, {app, key});
    if (!r) {
      return std::unexpected(r.error());
    }
    if (r->Rows() == 0) {
      return Fail(ErrorCode::kNotFound, "no such user");
    }
    UserRecord user;
    user.app = r->Text(0, 0);
    user.username = r->Text(0, 1);
    user.user_id = r->Text(0, 2);
    user.enabled = r->Text(0, 4) == "t";
    auto hash = box_.Open(r->Text(0, 3), PasswordContext(user.app, user.user_id));
    if (!hash) {
      return std::unexpected(hash.error());
    }
    user.password_hash = std::move(*hash);
    return user;
  });
}

Result<UserRecord> PostgresStore::FindUser(std::string_view app, std::string_view username) {
  return FindUserBy(kFindUser, app, username);
}

Result<UserRecord> PostgresStore::FindUserById(std::string_view app, std::string_view user_id) {
  return FindUserBy(kFindUserById, app, user_id);
}

Status PostgresStore::SetUserEnabled(std::string_view app, std::string_view username,
                                     bool enabled) {
  return WithConnection(false, [&](PgConnection& c) -> Status {
    return Changed(c.Query(kSetEnabled, {app, username, enabled ? "t" : "f"}), ErrorCode::kNotFound,
                   "no such user");
  });
}

Status PostgresStore::DeleteUser(std::string_view app, std::string_view username) {
  return WithConnection(false, [&](PgConnection& c) -> Status {
    return Changed(c.Query(kDeleteUser, {app, username}), ErrorCode::kNotFound, "no such user");
  });
}

Result<Store::WindowCount> PostgresStore::CountEvent(std::string_view key,
                                                     std::chrono::seconds window) {
  std::string now = Now(), length = std::to_string(window.count());
  auto counted = WithConnection(false, [&](PgConnection& c) -> Result<WindowCount> {
    auto r = c.Query(kCountEvent, {key, now, length});
    if (!r) {
      return std::unexpected(r.error());
    }
    return WindowCount{r->Int(0, 0), r->Int(0, 1)};
  });
  if (counted && PurgeDue(last_purge_, std::stoll(now))) {
    (void)PurgeExpiredCounters();  // the count stands either way; the next minute retries
  }
  return counted;
}

Result<Store::WindowCount> PostgresStore::PeekCount(std::string_view key) {
  std::string now = Now();
  return WithConnection(true, [&](PgConnection& c) -> Result<WindowCount> {
    auto r = c.Query(kPeekCount, {key, now});
    if (!r) {
      return std::unexpected(r.error());
    }
    return r->Rows() == 0 ? WindowCount{} : WindowCount{r->Int(0, 0), r->Int(0, 1)};
  });
}

Status PostgresStore::ResetCount(std::string_view key) {
  return WithConnection(false, [&](PgConnection& c) -> Status {
    auto r = c.Query(kResetCount, {key});
    if (!r) {
      return std::unexpected(r.error());
    }
    return {};
  });
}

Result<std::int64_t> PostgresStore::PurgeExpiredCounters() {
  std::string now = Now();
  auto purged = WithConnection(false, [&](PgConnection& c) -> Result<std::int64_t> {
    auto r = c.Query(kPurgeCounters, {now});
    if (!r) {
      return std::unexpected(r.error());
    }
    return r->Affected();
  });
  if (purged) {
    last_purge_.store(std::stoll(now), std::memory_order_relaxed);
  }
  return purged;
}

Status PostgresStore::UncountEvent(std::string_view key) {
  std::string now = Now();
  return WithConnection(false, [&](PgConnection& c) -> Status {
    auto r = c.Query(kUncountEvent, {key, now});
    if (!r) {
      return std::unexpected(r.error());
    }
    return {};
  });
}

Status PostgresStore::Ping() {
  return WithConnection(true, [&](PgConnection& c) -> Status {
    auto r = c.Query(kPing, {});
    if (!r) {
      return std::unexpected(r.error());
    }
    return {};
  });
}

Result<std::int64_t> PostgresStore::Count(const PgStatement& stmt, std::string_view app) {
  return WithConnection(true, [&](PgConnection& c) -> Result<std::int64_t> {
    auto r = c.Query(stmt, {app});
    if (!r) {
      return std::unexpected(r.error());
    }
    return r->Int(0, 0);
  });
}

Status PostgresStore::AddActivity(std::string_view app, std::int64_t minute, ActivityCounts add) {
  std::string m = std::to_string(minute), r = std::to_string(add.registrations),
              v = std::to_string(add.vends), old = std::to_string(minute - kActivityKeptMinutes);
  return WithConnection(false, [&](PgConnection& c) -> Status {
    auto result = c.Query(kAddActivity, {app, m, r, v, old});
    if (!result) {
      return std::unexpected(result.error());
    }
    return {};
  });
}

Result<Store::ActivityCounts> PostgresStore::ActivitySince(std::string_view app,
                                                           std::int64_t since_minute) {
  std::string since = std::to_string(since_minute);
  return WithConnection(true, [&](PgConnection& c) -> Result<ActivityCounts> {
    auto r = c.Query(kActivitySince, {app, since});
    if (!r) {
      return std::unexpected(r.error());
    }
    return ActivityCounts{r->Int(0, 0), r->Int(0, 1)};
  });
}

Result<std::int64_t> PostgresStore::CountDevices(std::string_view app) {
  return Count(kCountDevices, app);
}

Result<std::int64_t> PostgresStore::CountUsers(std::string_view app) {
  return Count(kCountUsers, app);
}

namespace {

// Device rows from the columns app, uid, key_sealed, user_id, created_at, updated_at,
// revoked_at, claims_sealed.
std::vector<DeviceRow> DeviceRowsOf(const PgResult& r) {
  std::vector<DeviceRow> rows;
  rows.reserve(static_cast<std::size_t>(r.Rows()));
  for (int i = 0; i < r.Rows(); ++i) {
    std::optional<std::int64_t> revoked;
    if (!r.IsNull(i, 6)) {
      revoked = r.Int(i, 6);
    }
    rows.push_back({r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.OptionalText(i, 3), r.Int(i, 4),
                    r.Int(i, 5), revoked, r.OptionalText(i, 7)});
  }
  return rows;
}

}  // namespace

Result<std::vector<DeviceRow>> PostgresStore::DevicesAfter(const RowKey& after, std::size_t limit) {
  std::string n = std::to_string(limit);
  return WithConnection(true, [&](PgConnection& c) -> Result<std::vector<DeviceRow>> {
    auto r = c.Query(kDevicesAfter, {after.first, after.second, n});
    if (!r) {
      return std::unexpected(r.error());
    }
    return DeviceRowsOf(*r);
  });
}

Result<std::vector<DeviceRow>> PostgresStore::UserDevicesAfter(std::string_view app,
                                                               std::string_view user_id,
                                                               std::string_view after_uid,
                                                               std::size_t limit) {
  std::string n = std::to_string(limit);
  return WithConnection(true, [&](PgConnection& c) -> Result<std::vector<DeviceRow>> {
    auto r = c.Query(kUserDevicesAfter, {app, user_id, after_uid, n});
    if (!r) {
      return std::unexpected(r.error());
    }
    return DeviceRowsOf(*r);
  });
}

Result<std::vector<UserRow>> PostgresStore::UsersAfter(const RowKey& after, std::size_t limit) {
  std::string n = std::to_string(limit);
  return WithConnection(true, [&](PgConnection& c) -> Result<std::vector<UserRow>> {
    auto r = c.Query(kUsersAfter, {after.first, after.second, n});
    if (!r) {
      return std::unexpected(r.error());
    }
    std::vector<UserRow> rows;
    rows.reserve(static_cast<std::size_t>(r->Rows()));
    for (int i = 0; i < r->Rows(); ++i) {
      rows.push_back({r->Text(i, 0), r->Text(i, 1), r->Text(i, 2), r->Text(i, 3),
                      r->Text(i, 4) == "t", r->Int(i, 5)});
    }
    return rows;
  });
}

template <class Row, class Insert>
Result<std::int64_t> PostgresStore::InsertAll(std::span<const Row> rows, Insert&& insert) {
  return WithConnection(false, [&](PgConnection& c) -> Result<std::int64_t> {
    if (auto begun = c.Exec("BEGIN"); !begun) {
      return std::unexpected(begun.error());
    }
    std::int64_t inserted = 0;
    for (const Row& row : rows) {
      auto r = insert(c, row);
      if (!r) {
        (void)c.Exec("ROLLBACK");
        return std::unexpected(r.error());
      }
      inserted += r->Affected();
    }
    if (auto committed = c.Exec("COMMIT"); !committed) {
      return std::unexpected(committed.error());
    }
    return inserted;
  });
}

Result<std::int64_t> PostgresStore::InsertDevices(std::span<const DeviceRow> rows) {
  return InsertAll(rows, [](PgConnection& c, const DeviceRow& d) {
    std::string created = std::to_string(d.created_at), updated = std::to_string(d.updated_at);
    std::string revoked = d.revoked_at ? std::to_string(*d.revoked_at) : "";
    return c.Query(
        kInsertDeviceRow,
        {d.app, d.uid, d.key_sealed, d.user_id ? PgParam(*d.user_id) : PgParam(std::nullopt),
         created, updated, d.revoked_at ? PgParam(revoked) : PgParam(std::nullopt),
         d.claims_sealed ? PgParam(*d.claims_sealed) : PgParam(std::nullopt)});
  });
}

Result<std::int64_t> PostgresStore::InsertUsers(std::span<const UserRow> rows) {
  return InsertAll(rows, [](PgConnection& c, const UserRow& u) {
    std::string created = std::to_string(u.created_at);
    return c.Query(kInsertUserRow, {u.app, u.username, u.user_id, u.password_sealed,
                                    u.enabled ? "t" : "f", created});
  });
}

}  // namespace vendo::store
