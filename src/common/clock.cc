#include "common/clock.h"

namespace vendo {

using std::chrono::system_clock;

system_clock::time_point SystemClock::Now() const { return system_clock::now(); }

system_clock::time_point FixedClock::Now() const {
  return system_clock::time_point(system_clock::duration(now_.load()));
}

void FixedClock::Set(system_clock::time_point now) { now_.store(now.time_since_epoch().count()); }

void FixedClock::Advance(system_clock::duration d) { now_.fetch_add(d.count()); }

}  // namespace vendo
