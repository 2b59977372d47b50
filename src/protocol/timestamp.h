// Timestamps of the 2012 protocol: "yyyy-MM-ddTHH:mm:ss.SSSZ" (Android) or
// "yyyy-MM-ddTHH:mm:ssZ" (iOS), always UTC.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "vendo/result.h"

namespace vendo::protocol {

using TimePoint = std::chrono::system_clock::time_point;

[[nodiscard]] Result<TimePoint> ParseLegacyTimestamp(std::string_view text);

// "2026-11-24T08:47:27Z" (RFC 3339, protocol v2, credential expirations) and
// "2026-11-24T08:47:27.123Z" (the 2012 form Android sent), always in UTC whatever the local
// time zone. (fmt 9 formats a system_clock time point in local time, so it is not used here.)
std::string IsoSeconds(TimePoint t);
std::string IsoMillis(TimePoint t);

// now - window <= t <= now + window (inclusive at both ends).
bool WithinWindow(TimePoint t, TimePoint now, std::chrono::seconds window);

}  // namespace vendo::protocol
