// Activity: vends and errors per minute over the last hour, and the latest failures, for the
// admin status page. Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/striped.h"

namespace vendo::metrics {

struct MinuteCounts {
  std::int64_t minute = 0;  // minutes since the epoch
  std::uint64_t vends = 0;
  std::uint64_t errors = 0;
};

struct RecentError {
  std::chrono::system_clock::time_point when;
  std::string app;
  std::string action;
  std::string outcome;
};

class Activity {
 public:
  static constexpr std::size_t kMinutes = 60;
  static constexpr std::size_t kRecentErrors = 20;

  explicit Activity(const Clock& clock) : clock_(clock) {}

  // An audited event: successful vends count as vends; any outcome but "ok" as an error.
  void Event(std::string_view app, std::string_view action, std::string_view outcome);

  // The last 60 minutes, oldest first, the current minute last (missing minutes are zero).
  std::vector<MinuteCounts> LastHour() const;
  // The latest failures, newest first.
  std::vector<RecentError> Recent() const;

 private:
  using Ring = std::array<MinuteCounts, kMinutes>;
  static MinuteCounts& Slot(Ring& ring, std::int64_t minute);

  // Striped: every vend on every network thread lands here (see common/striped.h).
  Striped<Ring> rings_;
  const Clock& clock_;
  mutable std::mutex recent_mu_;
  std::deque<RecentError> recent_;
};

}  // namespace vendo::metrics
