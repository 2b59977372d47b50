// Abuse limits, per app, for both protocols:
//  - registrations per client address per hour (devices and users);
//  - failed logins per user: at the limit the user is locked, correct password or not, for
//    the rest of the 15-minute window that began with the first failure (each attempt is
//    counted before its password is checked, so concurrent guesses cannot pass the limit);
//  - failed logins per client address per hour;
//  - token requests per device per minute;
//  - failed ID tokens per client address per minute (federated apps).
// The first three live in the store, so they hold across hosts; token requests and failed ID
// tokens are counted per host in memory (a /gettoken must not cost a database write, and an
// ID token is checked on a network thread). Loopback clients (tools on
// the host itself) are not limited by address; an IPv6 client counts by its prefix
// (address_key.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "config/app_config.h"
#include "store/store.h"
#include "vending/app.h"

namespace vendo::server {

inline constexpr std::chrono::seconds kLoginLockWindow{15 * 60};

class Limiter {
 public:
  Limiter(store::Store& store, const Clock& clock, int ipv6_prefix = 64)
      : store_(store), clock_(clock), ipv6_prefix_(ipv6_prefix) {}

  // kResourceExhausted, with the seconds until it lifts in retry_after, when over the limit.
  [[nodiscard]] Status Registration(std::string_view app, std::string_view address,
                                    const LimitsConfig& c);
  // Before checking a password: counts the attempt as a failure for the user and the address
  // (atomically, in the store), and refuses it when that is over either limit. A locked user
  // is refused even with the right password until the window ends.
  // True when this attempt is the last before the user's lock.
  [[nodiscard]] Result<bool> StartLogin(std::string_view app, std::string_view username,
                                        std::string_view address, const LimitsConfig& c);
  // After a wrong password: logs the lock when it was the last attempt.
  void LoginFailed(std::string_view app, std::string_view username, bool last);
  // After the right password: the attempt was no failure after all.
  void LoginSucceeded(std::string_view app, std::string_view username, std::string_view address,
                      const LimitsConfig& c);
  // After an attempt that ended before a wrong password was found (a stale timestamp, a
  // disabled user, a store error): its counts are taken back.
  void LoginNotFailed(std::string_view app, std::string_view username, std::string_view address,
                      const LimitsConfig& c);
  [[nodiscard]] Status Token(std::string_view app, std::string_view device, const LimitsConfig& c);
  // Before an ID token is checked: refused (kResourceExhausted, retry_after) when `address`
  // has sent failed_tokens_per_address_per_minute tokens that failed their check in this
  // window, so that a flood of forged tokens costs no signature checks or key refetches.
  [[nodiscard]] Status IdTokenCheck(std::string_view app, std::string_view address,
                                    const LimitsConfig& c);
  // After a token failed its check: counts it against `address`.
  void IdTokenFailed(std::string_view app, std::string_view address, const LimitsConfig& c);

 private:
  struct Window {
    std::int64_t end = 0;
    std::int64_t count = 0;
  };
  // The store key of a per-address count.
  std::string AddressCount(std::string_view kind, std::string_view app,
                           std::string_view address) const;

  store::Store& store_;
  const Clock& clock_;
  int ipv6_prefix_;
  std::mutex mu_;
  // A per-host count in tokens_ (kind:app:who), its window begun at the first; guarded by mu_.
  Window& CountIn(const std::string& key, std::int64_t now);

  std::unordered_map<std::string, Window> tokens_;  // per host; guarded by mu_
};

// One login attempt's place in the failed-login limits, for both protocols: Start counts it
// before the password is checked (refusing a locked user or address), Finish settles the count
// by what the check found.
class LoginAttempt {
 public:
  enum class Outcome {
    kSucceeded,      // the right password: the user starts over
    kWrongPassword,  // a failure that counts
    kNotChecked,     // it ended before a password was found wrong: taken back
  };
  LoginAttempt(Limiter& limiter, const App& app, std::string_view address)
      : limiter_(limiter), app_(app), address_(address) {}
  // kResourceExhausted (with retry_after) when the user or the address is locked.
  [[nodiscard]] Status Start(std::string_view username);
  void Finish(Outcome outcome);

 private:
  Limiter& limiter_;
  const App& app_;
  std::string address_;
  std::string username_;
  bool counted_ = false;  // Start counted it as a failure
  bool last_ = false;     // and it is the last before the user's lock
};

}  // namespace vendo::server
