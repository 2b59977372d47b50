// TimedStore: times every call to another Store and reports it (operation name and latency),
// for the store latency metrics. Put it between the database and the record cache, so that it
// times what the database does.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "store/store.h"

namespace vendo::store {

class TimedStore final : public Store {
 public:
  using Report =
      std::function<void(std::string_view operation, std::chrono::steady_clock::duration latency)>;
  TimedStore(Store& inner, Report report) : inner_(inner), report_(std::move(report)) {}

  [[nodiscard]] Status CreateDevice(std::string_view app, std::string_view uid,
                                    const SecretString& key) override;
  [[nodiscard]] Result<DeviceRecord> FindDevice(std::string_view app,
                                                std::string_view uid) override;
  [[nodiscard]] Status CreateBoundDevice(std::string_view app, std::string_view uid,
                                         std::string_view user_id, const SecretString& key,
                                         const SecretString& claims) override;
  [[nodiscard]] Status BindDevice(std::string_view app, std::string_view uid,
                                  std::string_view user_id, const SecretString& key) override;
  [[nodiscard]] Status SetDeviceKey(std::string_view app, std::string_view uid,
                                    const SecretString& key) override;
  [[nodiscard]] Status RevokeDevice(std::string_view app, std::string_view uid) override;
  [[nodiscard]] Status DeleteDevice(std::string_view app, std::string_view uid) override;
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
  [[nodiscard]] Result<WindowCount> CountEvent(std::string_view key,
                                               std::chrono::seconds window) override;
  [[nodiscard]] Result<WindowCount> PeekCount(std::string_view key) override;
  [[nodiscard]] Status ResetCount(std::string_view key) override;
  [[nodiscard]] Status UncountEvent(std::string_view key) override;
  [[nodiscard]] Result<std::int64_t> PurgeExpiredCounters() override;
  [[nodiscard]] Status Ping() override;
  [[nodiscard]] Result<std::int64_t> CountDevices(std::string_view app) override;
  [[nodiscard]] Result<std::int64_t> CountUsers(std::string_view app) override;
  [[nodiscard]] Status AddActivity(std::string_view app, std::int64_t minute,
                                   ActivityCounts add) override;
  [[nodiscard]] Result<ActivityCounts> ActivitySince(std::string_view app,
                                                     std::int64_t since_minute) override;

 private:
  template <class F>
  auto Timed(std::string_view operation, F&& call) {
    auto start = std::chrono::steady_clock::now();
    auto result = call();
    report_(operation, std::chrono::steady_clock::now() - start);
    return result;
  }

  Store& inner_;
  Report report_;
};

}  // namespace vendo::store
