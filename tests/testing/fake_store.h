// FakeStore: an in-memory Store for unit tests, with the contract store.h states (the same
// errors for a taken uid or username, a device of another user, a revoked device) and none
// of a database's cost. Counters use the clock it is given. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/clock.h"
#include "store/store.h"

namespace vendo::testing {

class FakeStore final : public store::Store {
 public:
  explicit FakeStore(const Clock& clock) : clock_(clock) {}

  [[nodiscard]] Status CreateDevice(std::string_view app, std::string_view uid,
                                    const SecretString& key) override {
    std::lock_guard lock(mu_);
    auto [it, added] = devices_.try_emplace(Key(app, uid));
    if (!added) {
      return Fail(ErrorCode::kAlreadyExists, "device exists");
    }
    it->second = {std::string(app), std::string(uid), key, std::nullopt, Seconds(), false, {}};
    return {};
  }
  [[nodiscard]] Result<store::DeviceRecord> FindDevice(std::string_view app,
                                                       std::string_view uid) override {
    std::lock_guard lock(mu_);
    auto it = devices_.find(Key(app, uid));
    if (it == devices_.end()) {
      return Fail(ErrorCode::kNotFound, "no such device");
    }
    return it->second;
  }
  [[nodiscard]] Status CreateBoundDevice(std::string_view app, std::string_view uid,
                                         std::string_view user_id, const SecretString& key,
                                         const SecretString& claims) override {
    std::lock_guard lock(mu_);
    auto [it, added] = devices_.try_emplace(Key(app, uid));
    if (!added) {
      return Fail(ErrorCode::kAlreadyExists, "device exists");
    }
    it->second = {
        std::string(app), std::string(uid), key, std::string(user_id), Seconds(), false, claims};
    return {};
  }
  [[nodiscard]] Status BindDevice(std::string_view app, std::string_view uid,
                                  std::string_view user_id, const SecretString& key) override {
    std::lock_guard lock(mu_);
    auto [it, added] = devices_.try_emplace(Key(app, uid));
    if (added) {
      it->second = {
          std::string(app), std::string(uid), key, std::string(user_id), Seconds(), false, {}};
      return {};
    }
    if (it->second.user_id != user_id || it->second.revoked) {
      return Fail(ErrorCode::kFailedPrecondition, "device belongs to another user");
    }
    it->second.key = key;
    return {};
  }
  [[nodiscard]] Status SetDeviceKey(std::string_view app, std::string_view uid,
                                    const SecretString& key) override {
    std::lock_guard lock(mu_);
    auto it = devices_.find(Key(app, uid));
    if (it == devices_.end() || it->second.revoked) {
      return Fail(ErrorCode::kNotFound, "no such device");
    }
    it->second.key = key;
    return {};
  }
  [[nodiscard]] Status RevokeDevice(std::string_view app, std::string_view uid) override {
    std::lock_guard lock(mu_);
    auto it = devices_.find(Key(app, uid));
    if (it == devices_.end()) {
      return Fail(ErrorCode::kNotFound, "no such device");
    }
    it->second.revoked = true;
    return {};
  }
  [[nodiscard]] Status DeleteDevice(std::string_view app, std::string_view uid) override {
    std::lock_guard lock(mu_);
    if (devices_.erase(Key(app, uid)) == 0) {
      return Fail(ErrorCode::kNotFound, "no such device");
    }
    return {};
  }
  [[nodiscard]] Status CreateUser(std::string_view app, std::string_view username,
                                  std::string_view user_id,
                                  const SecretString& password_hash) override {
    std::lock_guard lock(mu_);
    auto [it, added] = users_.try_emplace(Key(app, username));
    if (!added) {
      return Fail(ErrorCode::kAlreadyExists, "username taken");
    }
    it->second = {std::string(app), std::string(username), std::string(user_id), password_hash,
                  true};
    return {};
  }
  [[nodiscard]] Result<store::UserRecord> FindUser(std::string_view app,
                                                   std::string_view username) override {
    std::lock_guard lock(mu_);
    auto it = users_.find(Key(app, username));
    if (it == users_.end()) {
      return Fail(ErrorCode::kNotFound, "no such user");
    }
    return it->second;
  }
  [[nodiscard]] Result<store::UserRecord> FindUserById(std::string_view app,
                                                       std::string_view user_id) override {
    std::lock_guard lock(mu_);
    for (const auto& [key, user] : users_) {
      if (user.app == app && user.user_id == user_id) {
        return user;
      }
    }
    return Fail(ErrorCode::kNotFound, "no such user");
  }
  [[nodiscard]] Status SetUserEnabled(std::string_view app, std::string_view username,
                                      bool enabled) override {
    std::lock_guard lock(mu_);
    auto it = users_.find(Key(app, username));
    if (it == users_.end()) {
      return Fail(ErrorCode::kNotFound, "no such user");
    }
    it->second.enabled = enabled;
    return {};
  }
  [[nodiscard]] Status DeleteUser(std::string_view app, std::string_view username) override {
    std::lock_guard lock(mu_);
    if (users_.erase(Key(app, username)) == 0) {
      return Fail(ErrorCode::kNotFound, "no such user");
    }
    return {};
  }
  [[nodiscard]] Result<WindowCount> CountEvent(std::string_view key,
                                               std::chrono::seconds window) override {
    std::lock_guard lock(mu_);
    WindowCount& c = counters_[std::string(key)];
    if (c.window_end <= Seconds()) {
      c = {0, Seconds() + window.count()};
    }
    ++c.count;
    return c;
  }
  [[nodiscard]] Result<WindowCount> PeekCount(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = counters_.find(std::string(key));
    if (it == counters_.end() || it->second.window_end <= Seconds()) {
      return WindowCount{};
    }
    return it->second;
  }
  [[nodiscard]] Status ResetCount(std::string_view key) override {
    std::lock_guard lock(mu_);
    counters_.erase(std::string(key));
    return {};
  }
  [[nodiscard]] Status UncountEvent(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = counters_.find(std::string(key));
    if (it != counters_.end() && it->second.window_end > Seconds() && it->second.count > 0) {
      --it->second.count;
    }
    return {};
  }
  [[nodiscard]] Result<std::int64_t> PurgeExpiredCounters() override {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(
        std::erase_if(counters_, [&](const auto& c) { return c.second.window_end <= Seconds(); }));
  }
  [[nodiscard]] Status Ping() override { return {}; }
  std::size_t CounterRows() {
    std::lock_guard lock(mu_);
    return counters_.size();
  }
  [[nodiscard]] Result<std::int64_t> CountDevices(std::string_view app) override {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(std::count_if(
        devices_.begin(), devices_.end(), [&](const auto& d) { return d.second.app == app; }));
  }
  [[nodiscard]] Result<std::int64_t> CountUsers(std::string_view app) override {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(std::count_if(
        users_.begin(), users_.end(), [&](const auto& u) { return u.second.app == app; }));
  }
  [[nodiscard]] Status AddActivity(std::string_view app, std::int64_t minute,
                                   ActivityCounts add) override {
    std::lock_guard lock(mu_);
    ActivityCounts& a = activity_[{std::string(app), minute}];
    a.registrations += add.registrations;
    a.vends += add.vends;
    return {};
  }
  [[nodiscard]] Result<ActivityCounts> ActivitySince(std::string_view app,
                                                     std::int64_t since_minute) override {
    std::lock_guard lock(mu_);
    ActivityCounts sum;
    for (const auto& [key, a] : activity_) {
      if (key.first == app && key.second >= since_minute) {
        sum.registrations += a.registrations;
        sum.vends += a.vends;
      }
    }
    return sum;
  }

 private:
  static std::pair<std::string, std::string> Key(std::string_view app, std::string_view id) {
    return {std::string(app), std::string(id)};
  }
  std::int64_t Seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch())
        .count();
  }

  const Clock& clock_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, store::DeviceRecord> devices_;
  std::map<std::pair<std::string, std::string>, store::UserRecord> users_;
  std::map<std::string, WindowCount> counters_;
  std::map<std::pair<std::string, std::int64_t>, ActivityCounts> activity_;
};

}  // namespace vendo::testing
