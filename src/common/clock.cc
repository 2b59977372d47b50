#include "common/clock.h"

namespace vendo {

using std::chrono::system_clock;

system_clock::time_point SystemClock::Now() const { return system_clock::now(); }

std::chrono::steady_clock::time_point SystemClock::Steady() const {
  return std::chrono::steady_clock::now();
}

}  // namespace vendo
