#include "vending/limits.h"

#include "common/address_key.h"
#include "common/log.h"

namespace vendo::server {
namespace {

constexpr std::chrono::seconds kHour{3600};
constexpr std::chrono::seconds kMinute{60};
constexpr std::size_t kMaxTrackedDevices = 100000;

std::string Key(std::string_view kind, std::string_view app, std::string_view who) {
  std::string k(kind);
  k.append(":").append(app).append(":").append(who);
  return k;
}

Error Limited(std::string_view what, std::int64_t seconds) {
  std::int64_t after = std::max<std::int64_t>(1, seconds);
  return Error{ErrorCode::kResourceExhausted,
               std::string(what) + "; retry after " + std::to_string(after) + " s",
               std::chrono::seconds(after)};
}

// Local tools (and tests) on the host itself are not throttled by address. Behind a balancer
// the client's address comes from server.trusted_proxies, so real clients are never loopback.
bool Exempt(std::string_view address) { return address.empty() || IsLoopback(address); }

std::int64_t NowSeconds(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
}

}  // namespace

std::string Limiter::AddressCount(std::string_view kind, std::string_view app,
                                  std::string_view address) const {
  return Key(kind, app, AddressKey(address, ipv6_prefix_));
}

Status Limiter::Registration(std::string_view app, std::string_view address,
                             const LimitsConfig& c) {
  if (c.registrations_per_address_per_hour <= 0 || Exempt(address)) {
    return {};
  }
  auto n = store_.CountEvent(AddressCount("register", app, address), kHour);
  if (!n) {
    return std::unexpected(n.error());  // the store is down: the registration would fail too
  }
  if (n->count > c.registrations_per_address_per_hour) {
    return std::unexpected(
        Limited("too many registrations from this address", n->window_end - NowSeconds(clock_)));
  }
  return {};
}

Result<bool> Limiter::StartLogin(std::string_view app, std::string_view username,
                                 std::string_view address, const LimitsConfig& c) {
  // Counted before the password is checked, in one atomic step each, so that concurrent
  // guesses cannot all pass a check that only reads the count: with a limit of 5, at most 5
  // passwords are ever checked in a window, however many requests race.
  bool by_address = c.failed_logins_per_address_per_hour > 0 && !Exempt(address);
  if (by_address) {
    auto addr = store_.CountEvent(AddressCount("login-address", app, address), kHour);
    if (!addr) {
      return std::unexpected(addr.error());
    }
    if (addr->count > c.failed_logins_per_address_per_hour) {
      (void)store_.UncountEvent(AddressCount("login-address", app, address));  // refused, not tried
      return std::unexpected(Limited("too many failed logins from this address",
                                     addr->window_end - NowSeconds(clock_)));
    }
  }
  if (c.failed_logins_per_user > 0) {
    auto user = store_.CountEvent(Key("login-user", app, username), kLoginLockWindow);
    if (!user) {
      return std::unexpected(user.error());
    }
    if (user->count > c.failed_logins_per_user) {
      // Refused, not tried: neither count keeps it (the lock holds while the count is full).
      (void)store_.UncountEvent(Key("login-user", app, username));
      if (by_address) {
        (void)store_.UncountEvent(AddressCount("login-address", app, address));
      }
      return std::unexpected(
          Limited("user locked after failed logins", user->window_end - NowSeconds(clock_)));
    }
    return user->count == c.failed_logins_per_user;
  }
  return false;
}

void Limiter::LoginFailed(std::string_view app, std::string_view username, bool last) {
  if (last) {
    LogLine(LogLevel::kWarn, "user locked after failed logins")
        .Str("app", app)
        .Str("user", username)
        .Emit();
  }
}

void Limiter::LoginSucceeded(std::string_view app, std::string_view username,
                             std::string_view address, const LimitsConfig& c) {
  // A success was no failure: the user starts over, and the address's attempt is taken back.
  (void)store_.ResetCount(Key("login-user", app, username));
  if (c.failed_logins_per_address_per_hour > 0 && !Exempt(address)) {
    (void)store_.UncountEvent(AddressCount("login-address", app, address));
  }
}

void Limiter::LoginNotFailed(std::string_view app, std::string_view username,
                             std::string_view address, const LimitsConfig& c) {
  if (c.failed_logins_per_user > 0) {
    (void)store_.UncountEvent(Key("login-user", app, username));
  }
  if (c.failed_logins_per_address_per_hour > 0 && !Exempt(address)) {
    (void)store_.UncountEvent(AddressCount("login-address", app, address));
  }
}

Status Limiter::Token(std::string_view app, std::string_view device, const LimitsConfig& c) {
  if (c.tokens_per_device_per_minute <= 0) {
    return {};
  }
  std::int64_t now = NowSeconds(clock_);
  std::lock_guard lock(mu_);
  Window& w = CountIn(Key("token", app, device), now);
  if (++w.count > c.tokens_per_device_per_minute) {
    return std::unexpected(Limited("too many token requests from this device", w.end - now));
  }
  return {};
}

Limiter::Window& Limiter::CountIn(const std::string& key, std::int64_t now) {
  if (tokens_.size() > kMaxTrackedDevices) {
    std::erase_if(tokens_, [now](const auto& kv) { return kv.second.end <= now; });
  }
  Window& w = tokens_[key];
  if (w.end <= now) {
    w = {now + kMinute.count(), 0};
  }
  return w;
}

Status Limiter::IdTokenCheck(std::string_view app, std::string_view address,
                             const LimitsConfig& c) {
  if (c.failed_tokens_per_address_per_minute <= 0 || Exempt(address)) {
    return {};
  }
  std::int64_t now = NowSeconds(clock_);
  std::lock_guard lock(mu_);
  Window& w = CountIn(AddressCount("bad-id-token", app, address), now);
  if (w.count >= c.failed_tokens_per_address_per_minute) {
    return std::unexpected(Limited("too many failed ID tokens from this address", w.end - now));
  }
  return {};
}

void Limiter::IdTokenFailed(std::string_view app, std::string_view address, const LimitsConfig& c) {
  if (c.failed_tokens_per_address_per_minute <= 0 || Exempt(address)) {
    return;
  }
  std::int64_t now = NowSeconds(clock_);
  std::lock_guard lock(mu_);
  ++CountIn(AddressCount("bad-id-token", app, address), now).count;
}

Status LoginAttempt::Start(std::string_view username) {
  username_ = username;
  auto started = limiter_.StartLogin(app_.config.name, username_, address_, app_.config.limits);
  if (!started) {
    return std::unexpected(std::move(started.error()));
  }
  counted_ = true;
  last_ = *started;
  return {};
}

void LoginAttempt::Finish(Outcome outcome) {
  if (!counted_) {
    return;
  }
  switch (outcome) {
    case Outcome::kWrongPassword:
      limiter_.LoginFailed(app_.config.name, username_, last_);
      break;
    case Outcome::kSucceeded:
      limiter_.LoginSucceeded(app_.config.name, username_, address_, app_.config.limits);
      break;
    case Outcome::kNotChecked:
      limiter_.LoginNotFailed(app_.config.name, username_, address_, app_.config.limits);
      break;
  }
}

}  // namespace vendo::server
