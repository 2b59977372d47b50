// CachingStore: keeps recently read device and user records in memory, in front of another
// Store, so that /gettoken does not pay a database transaction per request.
//
// Writes made through this object invalidate the affected entries before they return, so
// this process always reads its own writes. Changes made by anyone else (another process on
// the same SQLite file, another host on a shared database) are seen once an entry's TTL has
// passed: `ttl` is the longest time a revoked or rotated record can still be served here.
// Only records that exist are cached: a new registration is visible at once. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "common/clock.h"
#include "common/string_map.h"
#include "store/forwarding_store.h"

namespace vendo::store {

struct CacheOptions {
  std::chrono::milliseconds ttl{1000};
  std::size_t max_entries = 100000;  // per record kind; the oldest shard entries go first
};

// Overrides the record reads and the writes that invalidate them; everything else (counters,
// which must hold across hosts, counts, activity, Ping) goes straight through.
class CachingStore final : public ForwardingStore {
 public:
  CachingStore(Store& inner, const Clock& clock, CacheOptions options)
      : ForwardingStore(inner), clock_(clock), options_(options) {}

  [[nodiscard]] Status CreateDevice(std::string_view app, std::string_view uid,
                                    const SecretString& key) override;
  [[nodiscard]] Result<DeviceRecord> FindDevice(std::string_view app,
                                                std::string_view uid) override;
  [[nodiscard]] Status RevokeDevice(std::string_view app, std::string_view uid) override;
  [[nodiscard]] Status DeleteDevice(std::string_view app, std::string_view uid) override;
  [[nodiscard]] Status SetDeviceKey(std::string_view app, std::string_view uid,
                                    const SecretString& key) override;
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

  std::size_t CachedDevicesForTest() { return devices_.Size(); }

  // A view of this cache for the network threads, which must never wait on the store:
  // FindDevice, FindUserById and FindUser answer from memory, or kWouldBlock when the record is not
  // cached (the caller then asks this store itself, where blocking is allowed). Every other
  // call is kWouldBlock too.
  Store& MemoryOnly() { return memory_only_; }

 private:
  // A map split into shards, each behind its own mutex, so the network threads rarely meet.
  template <class Record>
  class Cache {
   public:
    std::optional<Record> Get(std::string_view key, std::chrono::steady_clock::time_point now);
    // Stores `record` unless an invalidation happened since `generation` was read (then the
    // record may predate a write and must not be cached). Checked under the shard lock, and
    // invalidations bump the generation before erasing, so a stale put is always erased.
    void Put(std::string_view key, const Record& record,
             std::chrono::steady_clock::time_point expires, std::size_t max_entries,
             const std::atomic<std::uint64_t>& generation, std::uint64_t seen);
    void Erase(std::string_view key);
    void Clear();
    std::size_t Size();

   private:
    struct Entry {
      Record record;
      std::chrono::steady_clock::time_point expires;  // monotonic: a clock step moves nothing
    };
    struct Shard {
      std::shared_mutex mu;  // readers share it: the network threads never wait on each other
      StringMap<Entry> map;
    };
    static constexpr std::size_t kShards = 16;
    Shard& ShardFor(std::string_view key) {
      return shards_[std::hash<std::string_view>{}(key) % kShards];
    }
    std::array<Shard, kShards> shards_;
  };

  // The cache key of a record, in this thread's buffer: valid until the thread's next Key().
  static std::string_view Key(std::string_view app, std::string_view id);
  // Returns the cached record for `key`, or loads it with `load` and caches it if it exists.
  template <class Record, class Load>
  [[nodiscard]] Result<Record> ReadThrough(Cache<Record>& cache, std::string_view key, Load&& load);

  class MemoryOnlyView;
  [[nodiscard]] Result<DeviceRecord> CachedDevice(std::string_view app, std::string_view uid);
  [[nodiscard]] Result<UserRecord> CachedUserById(std::string_view app, std::string_view user_id);
  [[nodiscard]] Result<UserRecord> CachedUser(std::string_view app, std::string_view username);

  const Clock& clock_;
  CacheOptions options_;
  std::atomic<std::uint64_t> generation_{0};  // bumped by every invalidation
  Cache<DeviceRecord> devices_;
  Cache<UserRecord> users_by_id_;
  Cache<UserRecord> users_by_name_;

  class MemoryOnlyView final : public Store {
   public:
    explicit MemoryOnlyView(CachingStore& cache) : cache_(cache) {}
    [[nodiscard]] Result<DeviceRecord> FindDevice(std::string_view app,
                                                  std::string_view uid) override {
      return cache_.CachedDevice(app, uid);
    }
    [[nodiscard]] Result<UserRecord> FindUserById(std::string_view app,
                                                  std::string_view user_id) override {
      return cache_.CachedUserById(app, user_id);
    }
    [[nodiscard]] Status CreateDevice(std::string_view, std::string_view,
                                      const SecretString&) override {
      return Blocks();
    }
    [[nodiscard]] Status CreateBoundDevice(std::string_view, std::string_view, std::string_view,
                                           const SecretString&, const SecretString&) override {
      return Blocks();
    }
    [[nodiscard]] Status BindDevice(std::string_view, std::string_view, std::string_view,
                                    const SecretString&) override {
      return Blocks();
    }
    [[nodiscard]] Status SetDeviceKey(std::string_view, std::string_view,
                                      const SecretString&) override {
      return Blocks();
    }
    [[nodiscard]] Status RevokeDevice(std::string_view, std::string_view) override {
      return Blocks();
    }
    [[nodiscard]] Status DeleteDevice(std::string_view, std::string_view) override {
      return Blocks();
    }
    [[nodiscard]] Status CreateUser(std::string_view, std::string_view, std::string_view,
                                    const SecretString&) override {
      return Blocks();
    }
    [[nodiscard]] Result<UserRecord> FindUser(std::string_view app,
                                              std::string_view username) override {
      return cache_.CachedUser(app, username);
    }
    [[nodiscard]] Status SetUserEnabled(std::string_view, std::string_view, bool) override {
      return Blocks();
    }
    [[nodiscard]] Status DeleteUser(std::string_view, std::string_view) override {
      return Blocks();
    }
    [[nodiscard]] Result<WindowCount> CountEvent(std::string_view, std::chrono::seconds) override {
      return Blocks();
    }
    [[nodiscard]] Result<WindowCount> PeekCount(std::string_view) override { return Blocks(); }
    [[nodiscard]] Status ResetCount(std::string_view) override { return Blocks(); }
    [[nodiscard]] Status UncountEvent(std::string_view) override { return Blocks(); }
    [[nodiscard]] Result<std::int64_t> PurgeExpiredCounters() override { return Blocks(); }
    [[nodiscard]] Status Ping() override { return Blocks(); }
    [[nodiscard]] Result<std::int64_t> CountDevices(std::string_view) override { return Blocks(); }
    [[nodiscard]] Result<std::int64_t> CountUsers(std::string_view) override { return Blocks(); }
    [[nodiscard]] Status AddActivity(std::string_view, std::int64_t, ActivityCounts) override {
      return Blocks();
    }
    [[nodiscard]] Result<ActivityCounts> ActivitySince(std::string_view, std::int64_t) override {
      return Blocks();
    }

   private:
    static std::unexpected<Error> Blocks() {
      return std::unexpected(Error{ErrorCode::kWouldBlock, "not in memory"});
    }
    CachingStore& cache_;
  };
  MemoryOnlyView memory_only_{*this};
};

}  // namespace vendo::store
