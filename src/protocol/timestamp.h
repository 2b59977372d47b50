// Timestamps of the 2012 protocol: "yyyy-MM-ddTHH:mm:ss.SSSZ" (Android) or
// "yyyy-MM-ddTHH:mm:ssZ" (iOS), always UTC.
#pragma once

#include <chrono>
#include <string_view>

#include "vendo/result.h"

namespace vendo::protocol {

using TimePoint = std::chrono::system_clock::time_point;

Result<TimePoint> ParseLegacyTimestamp(std::string_view text);

// now - window <= t <= now + window (inclusive at both ends).
bool WithinWindow(TimePoint t, TimePoint now, std::chrono::seconds window);

}  // namespace vendo::protocol
