#include "metrics/activity.h"

namespace vendo::metrics {
namespace {

std::int64_t MinuteOf(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
}

}  // namespace

MinuteCounts& Activity::Slot(Ring& ring, std::int64_t minute) {
  MinuteCounts& slot = ring[static_cast<std::size_t>(minute) % kMinutes];
  if (slot.minute != minute) {
    slot = MinuteCounts{.minute = minute};
  }
  return slot;
}

void Activity::Event(std::string_view app, std::string_view action, std::string_view outcome) {
  auto now = clock_.Now();
  std::int64_t minute = MinuteOf(now);
  if (outcome == "ok") {
    if (action == "vend") {
      rings_.Update([&](Ring& ring) { ++Slot(ring, minute).vends; });
    }
    return;
  }
  rings_.Update([&](Ring& ring) { ++Slot(ring, minute).errors; });
  std::lock_guard lock(recent_mu_);
  recent_.push_front(RecentError{now, std::string(app), std::string(action), std::string(outcome)});
  if (recent_.size() > kRecentErrors) {
    recent_.pop_back();
  }
}

std::vector<MinuteCounts> Activity::LastHour() const {
  std::int64_t now = MinuteOf(clock_.Now());
  std::int64_t first = now - static_cast<std::int64_t>(kMinutes) + 1;
  std::vector<MinuteCounts> out;
  out.reserve(kMinutes);
  for (std::int64_t m = first; m <= now; ++m) {
    out.push_back(MinuteCounts{.minute = m});
  }
  rings_.ForEach([&](const Ring& ring) {
    for (MinuteCounts& total : out) {
      const MinuteCounts& slot = ring[static_cast<std::size_t>(total.minute) % kMinutes];
      if (slot.minute == total.minute) {
        total.vends += slot.vends;
        total.errors += slot.errors;
      }
    }
  });
  return out;
}

std::vector<RecentError> Activity::Recent() const {
  std::lock_guard lock(recent_mu_);
  return {recent_.begin(), recent_.end()};
}

}  // namespace vendo::metrics
