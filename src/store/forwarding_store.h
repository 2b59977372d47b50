// ForwardingStore: a Store that passes every call to another one. A decorator derives from it
// and overrides only the calls it changes (CachingStore: the record reads and the writes that
// invalidate them; a test's fault-injecting store: the calls it fails).
#pragma once

#include "store/store.h"

namespace vendo::store {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& inner) : inner_(inner) {}

  [[nodiscard]] Status CreateDevice(std::string_view app, std::string_view uid,
                                    const SecretString& key) override {
    return inner_.CreateDevice(app, uid, key);
  }
  [[nodiscard]] Result<DeviceRecord> FindDevice(std::string_view app,
                                                std::string_view uid) override {
    return inner_.FindDevice(app, uid);
  }
  [[nodiscard]] Status CreateBoundDevice(std::string_view app, std::string_view uid,
                                         std::string_view user_id, const SecretString& key,
                                         const SecretString& claims) override {
    return inner_.CreateBoundDevice(app, uid, user_id, key, claims);
  }
  [[nodiscard]] Status BindDevice(std::string_view app, std::string_view uid,
                                  std::string_view user_id, const SecretString& key) override {
    return inner_.BindDevice(app, uid, user_id, key);
  }
  [[nodiscard]] Status SetDeviceKey(std::string_view app, std::string_view uid,
                                    const SecretString& key) override {
    return inner_.SetDeviceKey(app, uid, key);
  }
  [[nodiscard]] Status RevokeDevice(std::string_view app, std::string_view uid) override {
    return inner_.RevokeDevice(app, uid);
  }
  [[nodiscard]] Status DeleteDevice(std::string_view app, std::string_view uid) override {
    return inner_.DeleteDevice(app, uid);
  }
  [[nodiscard]] Status CreateUser(std::string_view app, std::string_view username,
                                  std::string_view user_id,
                                  const SecretString& password_hash) override {
    return inner_.CreateUser(app, username, user_id, password_hash);
  }
  [[nodiscard]] Result<UserRecord> FindUser(std::string_view app,
                                            std::string_view username) override {
    return inner_.FindUser(app, username);
  }
  [[nodiscard]] Result<UserRecord> FindUserById(std::string_view app,
                                                std::string_view user_id) override {
    return inner_.FindUserById(app, user_id);
  }
  [[nodiscard]] Status SetUserEnabled(std::string_view app, std::string_view username,
                                      bool enabled) override {
    return inner_.SetUserEnabled(app, username, enabled);
  }
  [[nodiscard]] Status DeleteUser(std::string_view app, std::string_view username) override {
    return inner_.DeleteUser(app, username);
  }
  [[nodiscard]] Result<WindowCount> CountEvent(std::string_view key,
                                               std::chrono::seconds window) override {
    return inner_.CountEvent(key, window);
  }
  [[nodiscard]] Result<WindowCount> PeekCount(std::string_view key) override {
    return inner_.PeekCount(key);
  }
  [[nodiscard]] Status ResetCount(std::string_view key) override { return inner_.ResetCount(key); }
  [[nodiscard]] Status UncountEvent(std::string_view key) override {
    return inner_.UncountEvent(key);
  }
  [[nodiscard]] Result<std::int64_t> PurgeExpiredCounters() override {
    return inner_.PurgeExpiredCounters();
  }
  [[nodiscard]] Status Ping() override { return inner_.Ping(); }
  [[nodiscard]] Result<std::int64_t> CountDevices(std::string_view app) override {
    return inner_.CountDevices(app);
  }
  [[nodiscard]] Result<std::int64_t> CountUsers(std::string_view app) override {
    return inner_.CountUsers(app);
  }
  [[nodiscard]] Status AddActivity(std::string_view app, std::int64_t minute,
                                   ActivityCounts add) override {
    return inner_.AddActivity(app, minute, add);
  }
  [[nodiscard]] Result<ActivityCounts> ActivitySince(std::string_view app,
                                                     std::int64_t since_minute) override {
    return inner_.ActivitySince(app, since_minute);
  }

 protected:
  Store& inner_;
};

}  // namespace vendo::store
