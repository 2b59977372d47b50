// Clock: the only way vendo code reads the time, so tests can inject it.
#pragma once

#include <atomic>
#include <chrono>

namespace vendo {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (for timestamps, expirations). Safe to call from any thread.
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time, for every lifetime measured here (cache entries, backoffs): it never
  // steps when the wall clock is set back or forward. Safe to call from any thread.
  virtual std::chrono::steady_clock::time_point Steady() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point Steady() const override;
};

// A clock that returns whatever it was last set to. Set() steps the wall clock alone (as an
// operator or NTP would); Advance() is time passing, and moves both clocks. Thread-safe.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::chrono::system_clock::time_point now)
      : now_(now.time_since_epoch().count()) {}
  std::chrono::system_clock::time_point Now() const override;
  void Set(std::chrono::system_clock::time_point now);
  void Advance(std::chrono::system_clock::duration d);
  std::chrono::steady_clock::time_point Steady() const override;

 private:
  std::atomic<std::chrono::system_clock::rep> now_;
  std::atomic<std::chrono::steady_clock::rep> steady_{0};
};

}  // namespace vendo
