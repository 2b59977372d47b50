// FaultyStore: a Store in front of another that fails the calls a test chooses, the way a
// database that is down or refusing writes would (kUnavailable by default), and passes the
// rest through. It counts the calls it failed. Thread-safe.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>

#include "store/forwarding_store.h"

namespace vendo::testing {

class FaultyStore final : public store::ForwardingStore {
 public:
  explicit FaultyStore(store::Store& inner) : ForwardingStore(inner) {}

  // From now on, every write (or every read) fails with `error`; Heal() ends both.
  void FailWrites(Error error = {ErrorCode::kUnavailable, "store down (injected)"}) {
    std::lock_guard lock(mu_);
    write_error_ = std::move(error);
  }
  void FailReads(Error error = {ErrorCode::kUnavailable, "store down (injected)"}) {
    std::lock_guard lock(mu_);
    read_error_ = std::move(error);
  }
  void Heal() {
    std::lock_guard lock(mu_);
    write_error_.reset();
    read_error_.reset();
  }
  int Failed() const { return failed_.load(); }

  [[nodiscard]] Status CreateDevice(std::string_view app, std::string_view uid,
                                    const SecretString& key) override {
    return Write([&] { return inner_.CreateDevice(app, uid, key); });
  }
  [[nodiscard]] Status CreateBoundDevice(std::string_view app, std::string_view uid,
                                         std::string_view user_id, const SecretString& key,
                                         const SecretString& claims) override {
    return Write([&] { return inner_.CreateBoundDevice(app, uid, user_id, key, claims); });
  }
  [[nodiscard]] Status BindDevice(std::string_view app, std::string_view uid,
                                  std::string_view user_id, const SecretString& key) override {
    return Write([&] { return inner_.BindDevice(app, uid, user_id, key); });
  }
  [[nodiscard]] Status SetDeviceKey(std::string_view app, std::string_view uid,
                                    const SecretString& key) override {
    return Write([&] { return inner_.SetDeviceKey(app, uid, key); });
  }
  [[nodiscard]] Status RevokeDevice(std::string_view app, std::string_view uid) override {
    return Write([&] { return inner_.RevokeDevice(app, uid); });
  }
  [[nodiscard]] Status CreateUser(std::string_view app, std::string_view username,
                                  std::string_view user_id,
                                  const SecretString& password_hash) override {
    return Write([&] { return inner_.CreateUser(app, username, user_id, password_hash); });
  }
  [[nodiscard]] Result<WindowCount> CountEvent(std::string_view key,
                                               std::chrono::seconds window) override {
    return Write([&] { return inner_.CountEvent(key, window); });
  }
  [[nodiscard]] Result<store::DeviceRecord> FindDevice(std::string_view app,
                                                       std::string_view uid) override {
    return Read([&] { return inner_.FindDevice(app, uid); });
  }
  [[nodiscard]] Result<store::UserRecord> FindUser(std::string_view app,
                                                   std::string_view username) override {
    return Read([&] { return inner_.FindUser(app, username); });
  }
  [[nodiscard]] Result<store::UserRecord> FindUserById(std::string_view app,
                                                       std::string_view user_id) override {
    return Read([&] { return inner_.FindUserById(app, user_id); });
  }

 private:
  template <class Call>
  auto Write(Call&& call) -> decltype(call()) {
    return Maybe(write_error_, std::forward<Call>(call));
  }
  template <class Call>
  auto Read(Call&& call) -> decltype(call()) {
    return Maybe(read_error_, std::forward<Call>(call));
  }
  template <class Call>
  auto Maybe(const std::optional<Error>& injected, Call&& call) -> decltype(call()) {
    {
      std::lock_guard lock(mu_);
      if (injected) {
        ++failed_;
        return std::unexpected(*injected);
      }
    }
    return call();
  }

  std::mutex mu_;
  std::optional<Error> write_error_;
  std::optional<Error> read_error_;
  std::atomic<int> failed_{0};
};

}  // namespace vendo::testing
