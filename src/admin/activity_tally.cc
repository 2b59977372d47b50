#include "admin/activity_tally.h"

#include <utility>

#include "common/log.h"

namespace vendo::server {

ActivityTally::ActivityTally(const std::vector<std::string>& apps, metrics::Recorder& next)
    : next_(next) {
  for (const auto& app : apps) {
    by_app_.emplace(app, std::make_unique<Striped<Counts>>());
  }
}

void ActivityTally::Event(std::string_view app, std::string_view action, std::string_view outcome) {
  next_.Event(app, action, outcome);
  if (outcome != "ok") {
    return;
  }
  auto it = by_app_.find(app);
  if (it == by_app_.end()) {
    return;
  }
  if (action == "vend") {
    it->second->Update([](Counts& c) { ++c.vends; });
  } else if (action == "register_device" || action == "register_user") {
    it->second->Update([](Counts& c) { ++c.registrations; });
  }
}

Status ActivityTally::Flush(store::Store& store, const Clock& clock) {
  std::int64_t minute =
      std::chrono::duration_cast<std::chrono::minutes>(clock.Now().time_since_epoch()).count();
  Status result;
  for (auto& [app, counts] : by_app_) {
    store::Store::ActivityCounts add{};
    counts->ForEachMutable([&](Counts& c) {
      add.registrations += std::exchange(c.registrations, 0);
      add.vends += std::exchange(c.vends, 0);
    });
    if (add.registrations == 0 && add.vends == 0) {
      continue;
    }
    if (auto st = store.AddActivity(app, minute, add); !st) {
      counts->Update([&](Counts& c) {
        c.registrations += add.registrations;
        c.vends += add.vends;
      });
      result = st;
    }
  }
  return result;
}

ActivityFlusher::ActivityFlusher(ActivityTally& tally, store::Store& store, const Clock& clock,
                                 std::chrono::milliseconds period)
    : tally_(tally), store_(store), clock_(clock), period_(period), thread_([this] { Loop(); }) {}

ActivityFlusher::~ActivityFlusher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ActivityFlusher::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    bool stopping = cv_.wait_for(lock, period_, [this] { return stop_; });
    lock.unlock();
    if (auto st = tally_.Flush(store_, clock_); !st) {
      LogLine(LogLevel::kWarn, "activity counts not written; kept for the next try")
          .Str("error", st.error().message)
          .Emit();
    }
    lock.lock();
    if (stopping) {
      return;
    }
  }
}

}  // namespace vendo::server
