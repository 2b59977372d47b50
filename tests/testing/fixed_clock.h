// FixedClock: a clock that returns whatever it was last set to. Set() steps the wall clock
// alone (as an operator or NTP would); Advance() is time passing, and moves both clocks.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>

#include "common/clock.h"

namespace vendo {

class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::chrono::system_clock::time_point now)
      : now_(now.time_since_epoch().count()) {}
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::system_clock::duration(now_.load()));
  }
  void Set(std::chrono::system_clock::time_point now) {
    now_.store(now.time_since_epoch().count());
  }
  void Advance(std::chrono::system_clock::duration d) {
    now_.fetch_add(d.count());
    steady_.fetch_add(std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count());
  }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(steady_.load()));
  }

 private:
  std::atomic<std::chrono::system_clock::rep> now_;
  std::atomic<std::chrono::steady_clock::rep> steady_{0};
};

}  // namespace vendo
