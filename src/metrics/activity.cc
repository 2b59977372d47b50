#include "metrics/activity.h"

namespace vendo::metrics {
namespace {

std::int64_t MinuteOf(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
}

}  // namespace

MinuteCounts& Activity::Slot(std::int64_t minute) {
  MinuteCounts& slot = ring_[static_cast<std::size_t>(minute) % kMinutes];
  if (slot.minute != minute) {
    slot = MinuteCounts{.minute = minute};
  }
  return slot;
}

void Activity::Event(std::string_view app, std::string_view action, std::string_view outcome) {
  auto now = clock_.Now();
  bool ok = outcome == "ok";
  std::lock_guard lock(mu_);
  MinuteCounts& slot = Slot(MinuteOf(now));
  if (!ok) {
    ++slot.errors;
    recent_.push_front(
        RecentError{now, std::string(app), std::string(action), std::string(outcome)});
    if (recent_.size() > kRecentErrors) {
      recent_.pop_back();
    }
  } else if (action == "vend") {
    ++slot.vends;
  }
}

std::vector<MinuteCounts> Activity::LastHour() const {
  std::int64_t now = MinuteOf(clock_.Now());
  std::vector<MinuteCounts> out;
  out.reserve(kMinutes);
  std::lock_guard lock(mu_);
  for (std::int64_t m = now - static_cast<std::int64_t>(kMinutes) + 1; m <= now; ++m) {
    const MinuteCounts& slot = ring_[static_cast<std::size_t>(m) % kMinutes];
    out.push_back(slot.minute == m ? slot : MinuteCounts{.minute = m});
  }
  return out;
}

std::vector<RecentError> Activity::Recent() const {
  std::lock_guard lock(mu_);
  return {recent_.begin(), recent_.end()};
}

}  // namespace vendo::metrics
