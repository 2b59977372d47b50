#include "protocol/timestamp.h"

#include <cstdio>
#include <ctime>

#include "common/encoding.h"

namespace vendo::protocol {
namespace {

bool Expect(std::string_view s, std::size_t pos, char c) { return pos < s.size() && s[pos] == c; }

// "yyyy-MM-ddTHH:mm:ss" of the second `t` falls in, in UTC.
std::string UtcSeconds(TimePoint t) {
  std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return {buf, n};
}

}  // namespace

std::string IsoSeconds(TimePoint t) { return UtcSeconds(t) + 'Z'; }

std::string IsoMillis(TimePoint t) {
  auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  auto millis = (ms - std::chrono::floor<std::chrono::seconds>(ms)).count();
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(millis));
  return UtcSeconds(t) + frac;
}

Result<TimePoint> ParseLegacyTimestamp(std::string_view s) {
  auto bad = [] { return Fail(ErrorCode::kStaleRequest, "timestamp is not in the 2012 format"); };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!ReadDigits(s, 0, 4, year) || !Expect(s, 4, '-') || !ReadDigits(s, 5, 2, month) ||
      !Expect(s, 7, '-') || !ReadDigits(s, 8, 2, day) || !Expect(s, 10, 'T') ||
      !ReadDigits(s, 11, 2, hour) || !Expect(s, 13, ':') || !ReadDigits(s, 14, 2, minute) ||
      !Expect(s, 16, ':') || !ReadDigits(s, 17, 2, second)) {
    return bad();
  }
  std::size_t pos = 19;
  if (Expect(s, pos, '.')) {
    if (!ReadDigits(s, pos + 1, 3, millis)) {
      return bad();
    }
    pos += 4;
  }
  if (!Expect(s, pos, 'Z') || pos + 1 != s.size()) {
    return bad();
  }
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  // Beyond 2262 the clock's nanosecond count overflows (found by fuzz_timestamp); a request's
  // timestamp is "now" anyway.
  if (!ymd.ok() || year < 1970 || year > 2200 || hour > 23 || minute > 59 || second > 59) {
    return bad();
  }
  return TimePoint(sys_days(ymd)) + hours(hour) + minutes(minute) + seconds(second) +
         milliseconds(millis);
}

bool WithinWindow(TimePoint t, TimePoint now, std::chrono::seconds window) {
  return t >= now - window && t <= now + window;
}

}  // namespace vendo::protocol
