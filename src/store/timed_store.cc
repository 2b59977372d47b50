#include "store/timed_store.h"

namespace vendo::store {

Status TimedStore::CreateDevice(std::string_view app, std::string_view uid,
                                const SecretString& key) {
  return Timed("create_device", [&] { return inner_.CreateDevice(app, uid, key); });
}

Result<DeviceRecord> TimedStore::FindDevice(std::string_view app, std::string_view uid) {
  return Timed("find_device", [&] { return inner_.FindDevice(app, uid); });
}

Status TimedStore::CreateBoundDevice(std::string_view app, std::string_view uid,
                                     std::string_view user_id, const SecretString& key,
                                     const SecretString& claims) {
  return Timed("create_bound_device",
               [&] { return inner_.CreateBoundDevice(app, uid, user_id, key, claims); });
}

Status TimedStore::BindDevice(std::string_view app, std::string_view uid, std::string_view user_id,
                              const SecretString& key) {
  return Timed("bind_device", [&] { return inner_.BindDevice(app, uid, user_id, key); });
}

Status TimedStore::SetDeviceKey(std::string_view app, std::string_view uid,
                                const SecretString& key) {
  return Timed("set_device_key", [&] { return inner_.SetDeviceKey(app, uid, key); });
}

Status TimedStore::DeleteDevice(std::string_view app, std::string_view uid) {
  return Timed("delete_device", [&] { return inner_.DeleteDevice(app, uid); });
}

Status TimedStore::RevokeDevice(std::string_view app, std::string_view uid) {
  return Timed("revoke_device", [&] { return inner_.RevokeDevice(app, uid); });
}

Status TimedStore::CreateUser(std::string_view app, std::string_view username,
                              std::string_view user_id, const SecretString& password_hash) {
  return Timed("create_user",
               [&] { return inner_.CreateUser(app, username, user_id, password_hash); });
}

Result<UserRecord> TimedStore::FindUser(std::string_view app, std::string_view username) {
  return Timed("find_user", [&] { return inner_.FindUser(app, username); });
}

Result<UserRecord> TimedStore::FindUserById(std::string_view app, std::string_view user_id) {
  return Timed("find_user_by_id", [&] { return inner_.FindUserById(app, user_id); });
}

Status TimedStore::SetUserEnabled(std::string_view app, std::string_view username, bool enabled) {
  return Timed("set_user_enabled", [&] { return inner_.SetUserEnabled(app, username, enabled); });
}

Status TimedStore::DeleteUser(std::string_view app, std::string_view username) {
  return Timed("delete_user", [&] { return inner_.DeleteUser(app, username); });
}

Result<Store::WindowCount> TimedStore::CountEvent(std::string_view key,
                                                  std::chrono::seconds window) {
  return Timed("count_event", [&] { return inner_.CountEvent(key, window); });
}

Result<Store::WindowCount> TimedStore::PeekCount(std::string_view key) {
  return Timed("peek_count", [&] { return inner_.PeekCount(key); });
}

Status TimedStore::ResetCount(std::string_view key) {
  return Timed("reset_count", [&] { return inner_.ResetCount(key); });
}

Result<std::int64_t> TimedStore::PurgeExpiredCounters() {
  return Timed("purge_counters", [&] { return inner_.PurgeExpiredCounters(); });
}

Status TimedStore::UncountEvent(std::string_view key) {
  return Timed("uncount_event", [&] { return inner_.UncountEvent(key); });
}

Status TimedStore::Ping() {
  return Timed("ping", [&] { return inner_.Ping(); });
}

Result<std::int64_t> TimedStore::CountDevices(std::string_view app) {
  return Timed("count_devices", [&] { return inner_.CountDevices(app); });
}

Result<std::int64_t> TimedStore::CountUsers(std::string_view app) {
  return Timed("count_users", [&] { return inner_.CountUsers(app); });
}

Status TimedStore::AddActivity(std::string_view app, std::int64_t minute, ActivityCounts add) {
  return Timed("add_activity", [&] { return inner_.AddActivity(app, minute, add); });
}

Result<Store::ActivityCounts> TimedStore::ActivitySince(std::string_view app,
                                                        std::int64_t since_minute) {
  return Timed("activity_since", [&] { return inner_.ActivitySince(app, since_minute); });
}

}  // namespace vendo::store
