// Store: where devices and users live.
//
// Implementations: SqliteStore (embedded, the default) and PostgresStore (many hosts on one
// database); both pass the same conformance tests (tests/store). Decorators: CachingStore
// (the record cache, and its memory-only view for network threads) and TimedStore (call
// latencies). All methods are thread-safe and may block on disk or network, so servers call
// them where blocking is allowed (never on a network thread). Secrets (device keys, password
// hashes, a federated device's claims) are returned in the clear but stored sealed under the
// master key.
//
// A write that returns success is durable: it survives a crash of the process the next
// instant (and of the machine, as far as fsync goes).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/secret.h"
#include "vendo/result.h"

namespace vendo::store {

struct DeviceRecord {
  std::string app;
  std::string uid;
  SecretString key;
  std::optional<std::string> user_id;  // the owning user, in identity apps
  std::int64_t created_at = 0;         // seconds since the epoch
  bool revoked = false;                // revoked devices get nothing, and keep their uid
  // A device bound to a federated identity: the identity's claims as its ID token proved them
  // when the device was bound (opaque to the store; "" for every other device).
  SecretString claims;
};

struct UserRecord {
  std::string app;
  std::string username;
  std::string user_id;
  // A 2012 registration's salted hash (the key of its logins: password-equivalent), or a v2
  // sign-up's argon2id PHC string. Kept sealed either way.
  SecretString password_hash;
  bool enabled = true;
};

// How long `activity` keeps its minutes.
inline constexpr std::int64_t kActivityKeptMinutes = std::int64_t{7} * 24 * 60;

// True (once) when a minute has passed since `last` (seconds since the epoch): the caller
// then purges expired counters. Several hosts may each purge; that is harmless.
inline bool PurgeDue(std::atomic<std::int64_t>& last, std::int64_t now) {
  std::int64_t seen = last.load(std::memory_order_relaxed);
  return now - seen >= 60 && last.compare_exchange_strong(seen, now, std::memory_order_relaxed);
}

class Store {
 public:
  virtual ~Store() = default;

  // Registers an anonymous device. kAlreadyExists if the uid is taken in this app.
  [[nodiscard]] virtual Status CreateDevice(std::string_view app, std::string_view uid,
                                            const SecretString& key) = 0;
  // kNotFound if there is no such device.
  [[nodiscard]] virtual Result<DeviceRecord> FindDevice(std::string_view app,
                                                        std::string_view uid) = 0;

  // Binds a device to a user with a new key (identity login): creates the device or replaces
  // its key. kFailedPrecondition if the uid belongs to another user (or is anonymous).
  [[nodiscard]] virtual Status BindDevice(std::string_view app, std::string_view uid,
                                          std::string_view user_id, const SecretString& key) = 0;

  // Makes a device bound to a user, with the claims it was bound under (federated apps): never
  // replaces one. kAlreadyExists if the uid is taken in this app.
  [[nodiscard]] virtual Status CreateBoundDevice(std::string_view app, std::string_view uid,
                                                 std::string_view user_id, const SecretString& key,
                                                 const SecretString& claims) = 0;

  // Replaces a device's key (protocol v2 secret rotation). kNotFound if there is no such
  // device, or it is revoked.
  [[nodiscard]] virtual Status SetDeviceKey(std::string_view app, std::string_view uid,
                                            const SecretString& key) = 0;

  // Revokes a device: it gets no more tokens and its uid cannot register or log in again.
  // kNotFound if there is no such device.
  [[nodiscard]] virtual Status RevokeDevice(std::string_view app, std::string_view uid) = 0;

  // Deletes a device record outright: only to take back a registration that could not be
  // audited (the uid is free again). kNotFound if there is no such device.
  [[nodiscard]] virtual Status DeleteDevice(std::string_view app, std::string_view uid) = 0;

  // kAlreadyExists if the username is taken in this app.
  [[nodiscard]] virtual Status CreateUser(std::string_view app, std::string_view username,
                                          std::string_view user_id,
                                          const SecretString& password_hash) = 0;
  [[nodiscard]] virtual Result<UserRecord> FindUser(std::string_view app,
                                                    std::string_view username) = 0;
  [[nodiscard]] virtual Result<UserRecord> FindUserById(std::string_view app,
                                                        std::string_view user_id) = 0;
  // kNotFound if there is no such user.
  [[nodiscard]] virtual Status SetUserEnabled(std::string_view app, std::string_view username,
                                              bool enabled) = 0;
  [[nodiscard]] virtual Status DeleteUser(std::string_view app, std::string_view username) = 0;

  // Abuse limits shared by every host: counts one event under `key` in a fixed window that
  // starts with the first event; returns the count so far in the window and when it ends.
  struct WindowCount {
    std::int64_t count = 0;
    std::int64_t window_end = 0;  // seconds since the epoch
  };
  [[nodiscard]] virtual Result<WindowCount> CountEvent(std::string_view key,
                                                       std::chrono::seconds window) = 0;
  // The current count without adding one (0 when there is none or the window is over).
  [[nodiscard]] virtual Result<WindowCount> PeekCount(std::string_view key) = 0;
  [[nodiscard]] virtual Status ResetCount(std::string_view key) = 0;
  // Takes back one event counted under `key` in its current window (never below zero): an
  // attempt counted before it was tried that then turned out to be no failure.
  [[nodiscard]] virtual Status UncountEvent(std::string_view key) = 0;
  // Deletes the counters whose window is over (rate limits, lockouts, v2 nonces, 2012 login
  // records); returns how many. CountEvent also does this itself, at most once a minute, so
  // the table holds about the events of one window, not every event ever counted.
  [[nodiscard]] virtual Result<std::int64_t> PurgeExpiredCounters() = 0;

  // Succeeds when the store can serve reads (for /readyz).
  [[nodiscard]] virtual Status Ping() = 0;

  [[nodiscard]] virtual Result<std::int64_t> CountDevices(std::string_view app) = 0;
  [[nodiscard]] virtual Result<std::int64_t> CountUsers(std::string_view app) = 0;

  // What the hosts did, per app and minute, for `vendo stats`: each host adds its own counts
  // (a few writes a minute, not one per request), so the sums cover every host.
  struct ActivityCounts {
    std::int64_t registrations = 0;
    std::int64_t vends = 0;
  };
  // Adds to the counts of `minute` (minutes since the epoch); forgets minutes older than a week.
  [[nodiscard]] virtual Status AddActivity(std::string_view app, std::int64_t minute,
                                           ActivityCounts add) = 0;
  // The sums over minutes >= `since_minute`.
  [[nodiscard]] virtual Result<ActivityCounts> ActivitySince(std::string_view app,
                                                             std::int64_t since_minute) = 0;
};

}  // namespace vendo::store
