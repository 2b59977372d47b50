// ScopedTimeZone: runs a test in another local time zone (TZ), restoring the old one after.
// POSIX zone strings ("EST+5", "IST-5:30") need no tzdata, so they work on any machine.
#pragma once

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace vendo::testing {

class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) {
      saved_ = old;
    }
    ::setenv("TZ", zone, 1);
    ::tzset();
  }
  ~ScopedTimeZone() {
    if (saved_) {
      ::setenv("TZ", saved_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  ScopedTimeZone(const ScopedTimeZone&) = delete;
  ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

 private:
  std::optional<std::string> saved_;
};

}  // namespace vendo::testing
