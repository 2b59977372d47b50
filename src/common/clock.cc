#include "common/clock.h"

namespace vendo {

using std::chrono::system_clock;

system_clock::time_point SystemClock::Now() const { return system_clock::now(); }

std::chrono::steady_clock::time_point SystemClock::Steady() const {
  return std::chrono::steady_clock::now();
}

system_clock::time_point FixedClock::Now() const {
  return system_clock::time_point(system_clock::duration(now_.load()));
}

void FixedClock::Set(system_clock::time_point now) { now_.store(now.time_since_epoch().count()); }

void FixedClock::Advance(system_clock::duration d) {
  now_.fetch_add(d.count());
  steady_.fetch_add(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count());
}

std::chrono::steady_clock::time_point FixedClock::Steady() const {
  return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(steady_.load()));
}

}  // namespace vendo
