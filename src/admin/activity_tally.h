// ActivityTally: counts each app's registrations and vends in memory and adds them to the
// store's per-minute activity every few seconds (a few writes a minute per host instead of one
// per request), so that `vendo stats` sums every host. A Recorder that passes events on.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/striped.h"
#include "metrics/metrics.h"
#include "store/store.h"

namespace vendo::server {

class ActivityTally final : public metrics::Recorder {
 public:
  ActivityTally(const std::vector<std::string>& apps, metrics::Recorder& next);

  void Request(std::string_view app, std::string_view path, int status,
               std::chrono::steady_clock::duration latency) override {
    next_.Request(app, path, status, latency);
  }
  void Event(std::string_view app, std::string_view action, std::string_view outcome) override;
  void StoreCall(std::string_view operation, std::chrono::steady_clock::duration latency) override {
    next_.StoreCall(operation, latency);
  }

  // Adds what was counted since the last flush to `store` under the current minute. What
  // cannot be written is kept for the next flush.
  [[nodiscard]] Status Flush(store::Store& store, const Clock& clock);

 private:
  struct Counts {
    std::int64_t registrations = 0;
    std::int64_t vends = 0;
  };
  // Striped: every network thread counts each vend, so one shared counter would bounce.
  std::map<std::string, std::unique_ptr<Striped<Counts>>, std::less<>> by_app_;
  metrics::Recorder& next_;
};

// Flushes a tally every `period` on its own thread, and once more when stopped.
class ActivityFlusher {
 public:
  ActivityFlusher(ActivityTally& tally, store::Store& store, const Clock& clock,
                  std::chrono::milliseconds period);
  ~ActivityFlusher();  // stops and flushes

 private:
  void Loop();

  ActivityTally& tally_;
  store::Store& store_;
  const Clock& clock_;
  const std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace vendo::server
