// Clock: the only way vendo code reads the time, so tests can inject it.
#pragma once

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

}  // namespace vendo
