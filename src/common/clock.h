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
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override;
};

// A clock that returns whatever it was last set to. Thread-safe.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::chrono::system_clock::time_point now)
      : now_(now.time_since_epoch().count()) {}
  std::chrono::system_clock::time_point Now() const override;
  void Set(std::chrono::system_clock::time_point now);
  void Advance(std::chrono::system_clock::duration d);

 private:
  std::atomic<std::chrono::system_clock::rep> now_;
};

}  // namespace vendo
