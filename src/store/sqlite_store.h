// SqliteStore: the embedded store. One SQLite file in WAL mode; readers use a small pool of
// connections, writers go through a GroupCommitter. Schema migrations run at Open().
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "common/clock.h"
#include "crypto/secret_box.h"
#include "store/group_commit.h"
#include "store/rows.h"
#include "store/store.h"

namespace vendo::store {

struct SqliteOptions {
  std::string path;
  std::size_t max_batch = 256;  // group commit: most writes per transaction (1 = no grouping)
};

class SqliteStore final : public Store, public RowAccess {
 public:
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options,
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

  // The schema version after migrations (for tests and `vendo store` commands).
  static int LatestSchemaVersion();

 private:
  SqliteStore(SqliteOptions options, const crypto::SecretBox& box, const Clock& clock,
              std::unique_ptr<Connection> writer);

  // Borrows a reader connection for the duration of `fn`.
  template <class Fn>
  auto WithReader(Fn&& fn) -> decltype(fn(std::declval<Connection&>()));
  [[nodiscard]] Result<UserRecord> ReadUser(Statement* stmt);
  [[nodiscard]] Result<UserRecord> FindUserWhere(const char* sql, std::string_view app,
                                                 std::string_view key);
  [[nodiscard]] Result<std::int64_t> CountWhereApp(const char* sql, std::string_view app);
  // Inserts each row with `sql` (bound by `bind`) in one transaction; returns rows added.
  template <class Row, class Bind>
  [[nodiscard]] Result<std::int64_t> InsertAll(std::span<const Row> rows, const char* sql,
                                               Bind&& bind);
  // One page of rows, built by `make_row` from each result row: `sql` takes `keys` as its
  // first parameters and the limit as its last.
  template <class Row, class MakeRow>
  [[nodiscard]] Result<std::vector<Row>> ReadPage(const char* sql,
                                                  std::initializer_list<std::string_view> keys,
                                                  std::size_t limit, MakeRow&& make_row);
  std::int64_t NowSeconds() const;

  SqliteOptions options_;
  const crypto::SecretBox& box_;
  const Clock& clock_;
  std::atomic<std::int64_t> last_purge_{0};  // when CountEvent last purged (PurgeDue)
  GroupCommitter writer_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
};

// AAD contexts that bind a sealed secret to its row.
std::string DeviceKeyContext(std::string_view app, std::string_view uid);
std::string PasswordContext(std::string_view app, std::string_view user_id);
std::string DeviceClaimsContext(std::string_view app, std::string_view uid);

// A bound device's key and claims, sealed under their contexts (CreateBoundDevice).
struct SealedBoundDevice {
  std::string key;
  std::string claims;
};
[[nodiscard]] Result<SealedBoundDevice> SealBoundDevice(const crypto::SecretBox& box,
                                                        std::string_view app, std::string_view uid,
                                                        const SecretString& key,
                                                        const SecretString& claims);

}  // namespace vendo::store
