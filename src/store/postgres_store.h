// PostgresStore: the shared store for several vendo hosts (libpq, no ORM).
//
// - A small pool of connections, opened on demand; a connection that breaks (the server
//   restarted, the network dropped) is thrown away and the next request opens a new one.
//   Reads are retried once on a fresh connection when the one they got had gone stale.
// - Named prepared statements, prepared once per connection.
// - The same versioned migrations as SQLite, under an advisory lock, so that several hosts
//   starting at once migrate exactly once.
// - Each write is one statement (an upsert with its condition inside it), so no step needs a
//   multi-statement transaction; PostgreSQL's commit makes it durable, and concurrent commits
//   share WAL flushes (its own group commit).
// - Errors: lost connections, shutdowns and overload are kUnavailable (retryable).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "common/clock.h"
#include "crypto/secret_box.h"
#include "store/pg_conn.h"
#include "store/rows.h"
#include "store/store.h"

namespace vendo::store {

struct PostgresOptions {
  std::string url;        // postgres://user@host:port/db (no password in it)
  SecretString password;  // empty: libpq's PGPASSWORD or ~/.pgpass
  std::size_t max_connections = 8;
  std::chrono::milliseconds acquire_timeout{1000};  // waiting for a free connection
  PgTimeouts timeouts;
};

class PostgresStore final : public Store, public RowAccess {
 public:
  // Connects and migrates. Fails when the server cannot be reached.
  [[nodiscard]] static Result<std::unique_ptr<PostgresStore>> Open(PostgresOptions options,
                                                                   const crypto::SecretBox& box,
                                                                   const Clock& clock);

  [[nodiscard]] Status CreateDevice(std::string_view app, std::string_view uid,
                                    const SecretString& key) override;
  [[nodiscard]] Result<DeviceRecord> FindDevice(std::string_view app,
                                                std::string_view uid) override;
  [[nodiscard]] Status RevokeDevice(std::string_view app, std::string_view uid) override;
  [[nodiscard]] Status DeleteDevice(std::string_view app, std::string_view uid) override;
  [[nodiscard]] Status SetDeviceKey(std::string_view app, std::string_view uid,
                                    const SecretString& key) override;
  [[nodiscard]] Result<WindowCount> CountEvent(std::string_view key,
                                               std::chrono::seconds window) override;
  [[nodiscard]] Result<WindowCount> PeekCount(std::string_view key) override;
  [[nodiscard]] Status ResetCount(std::string_view key) override;
  [[nodiscard]] Status UncountEvent(std::string_view key) override;
  [[nodiscard]] Result<std::int64_t> PurgeExpiredCounters() override;
  [[nodiscard]] Status CreateBoundDevice(std::string_view app, std::string_view uid,
                                         std::string_view user_id, const SecretString& key,
                                         const SecretString& claims) override;
  [[nodiscard]] Status BindDevice(std::string_view app, std::string_view uid,
                                  std::string_view user_id, const SecretString& key) override;
  [[nodiscard]] Status CreateUser(std::string_view app, std::string_view username,
                                  std::string_view user_id,
                                  const SecretString& password_hash) override;
  [[nodiscard]] Result<UserRecord> FindUser(std::string_view app,
                                            std::string_view username) override;
  [[nodiscard]] Result<UserRecord> FindUserById(std::string_view app,
                                                std::string_view user_id) override;
  [[nodiscard]] Status SetUserEnabled(std::string_view app, std::string_view username,
                                      bool enabled) override;
  [[nodiscard]] Status DeleteUser(std::string_view app, std::string_view username) override;
  [[nodiscard]] Status Ping() override;
  [[nodiscard]] Result<std::int64_t> CountDevices(std::string_view app) override;
  [[nodiscard]] Result<std::int64_t> CountUsers(std::string_view app) override;
  [[nodiscard]] Status AddActivity(std::string_view app, std::int64_t minute,
                                   ActivityCounts add) override;
  [[nodiscard]] Result<ActivityCounts> ActivitySince(std::string_view app,
                                                     std::int64_t since_minute) override;

  [[nodiscard]] Result<std::vector<DeviceRow>> DevicesAfter(const RowKey& after,
                                                            std::size_t limit) override;
  [[nodiscard]] Result<std::vector<UserRow>> UsersAfter(const RowKey& after,
                                                        std::size_t limit) override;
  [[nodiscard]] Result<std::vector<DeviceRow>> UserDevicesAfter(std::string_view app,
                                                                std::string_view user_id,
                                                                std::string_view after_uid,
                                                                std::size_t limit) override;
  [[nodiscard]] Result<std::int64_t> InsertDevices(std::span<const DeviceRow> rows) override;
  [[nodiscard]] Result<std::int64_t> InsertUsers(std::span<const UserRow> rows) override;

  static int LatestSchemaVersion();

 private:
  PostgresStore(PostgresOptions options, const crypto::SecretBox& box, const Clock& clock)
      : options_(std::move(options)), box_(box), clock_(clock) {}

  // Runs `fn` on a pooled connection. With `retry_stale`, a failure because the connection
  // had been lost is retried once on a new one (only for reads: a write may have committed);
  // one that timed out is not (the server is slow, and a retry would double the wait).
  template <class Fn>
  auto WithConnection(bool retry_stale, Fn&& fn) -> decltype(fn(std::declval<PgConnection&>()));
  [[nodiscard]] Result<std::unique_ptr<PgConnection>> Acquire();
  void Release(std::unique_ptr<PgConnection> conn);
  [[nodiscard]] Result<UserRecord> FindUserBy(const PgStatement& stmt, std::string_view app,
                                              std::string_view key);
  [[nodiscard]] Result<std::int64_t> Count(const PgStatement& stmt, std::string_view app);
  // Runs `insert` for each row inside one transaction; returns the rows it changed.
  template <class Row, class Insert>
  [[nodiscard]] Result<std::int64_t> InsertAll(std::span<const Row> rows, Insert&& insert);
  std::string Now() const;

  PostgresOptions options_;
  const crypto::SecretBox& box_;
  const Clock& clock_;
  std::atomic<std::int64_t> last_purge_{0};  // when CountEvent last purged (PurgeDue)
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  std::size_t open_ = 0;                             // idle and busy; guarded by mu_
};

// Runs the migrations on `conn` under an advisory lock; returns the schema version.
[[nodiscard]] Result<int> MigratePostgres(PgConnection& conn, std::int64_t now_seconds);

}  // namespace vendo::store
