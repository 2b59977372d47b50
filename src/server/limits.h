// Abuse limits, per app, for the 2012 protocol (and v2 when it comes):
//  - registrations per client address per hour (devices and users);
//  - failed logins per user: at the limit the user is locked, correct password or not, for
//    the rest of the 15-minute window that began with the first failure;
//  - failed logins per client address per hour;
//  - token requests per device per minute.
// The first three live in the store, so they hold across hosts; token requests are counted
// per host in memory (a /gettoken must not cost a database write). Loopback clients (tools on
// the host itself) are not limited by address.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "store/store.h"

namespace vendo::server {

struct LimitsConfig {
  std::int64_t registrations_per_address_per_hour = 100;  // 0 = no limit, for each
  std::int64_t failed_logins_per_user = 10;
  std::int64_t failed_logins_per_address_per_hour = 100;
  std::int64_t tokens_per_device_per_minute = 120;
};

inline constexpr std::chrono::seconds kLoginLockWindow{15 * 60};

class Limiter {
 public:
  Limiter(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // kResourceExhausted (with the seconds until it lifts in the message) when over the limit.
  Status Registration(std::string_view app, std::string_view address, const LimitsConfig& c);
  // Before checking a password: refused while the user or the address is locked out.
  Status LoginAllowed(std::string_view app, std::string_view username, std::string_view address,
                      const LimitsConfig& c);
  // After a wrong password (or unknown user).
  void LoginFailed(std::string_view app, std::string_view username, std::string_view address,
                   const LimitsConfig& c);
  void LoginSucceeded(std::string_view app, std::string_view username);
  Status Token(std::string_view app, std::string_view device, const LimitsConfig& c);

 private:
  struct Window {
    std::int64_t end = 0;
    std::int64_t count = 0;
  };
  store::Store& store_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> tokens_;  // per host; guarded by mu_
};

// Seconds until a limit lifts, from an error Limiter returned (0 if it says nothing).
std::int64_t RetryAfterSeconds(const Error& e);

}  // namespace vendo::server
