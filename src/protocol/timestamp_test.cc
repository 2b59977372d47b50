#include "protocol/timestamp.h"

#include <gtest/gtest.h>

#include "testing/time_zone.h"

namespace vendo::protocol {
namespace {

using namespace std::chrono;

TEST(LegacyTimestamp, ParsesBothClientForms) {
  auto android = ParseLegacyTimestamp("2013-08-08T12:34:56.789Z");
  ASSERT_TRUE(android.has_value());
  EXPECT_EQ(duration_cast<milliseconds>(android->time_since_epoch()).count(), 1375965296789);
  auto ios = ParseLegacyTimestamp("2013-08-08T12:34:56Z");
  ASSERT_TRUE(ios.has_value());
  EXPECT_EQ(duration_cast<milliseconds>(ios->time_since_epoch()).count(), 1375965296000);
}

TEST(LegacyTimestamp, RejectsOtherForms) {
  for (std::string_view s :
       {"", "2013-08-08T12:34:56", "2013-08-08T12:34:56+00:00", "2013-08-08 12:34:56Z",
        "2013-02-30T12:34:56Z", "2013-08-08T24:00:00Z", "2013-08-08T12:34:56.78Z",
        "2013-08-08T12:34:56.789Zjunk", "20x3-08-08T12:34:56Z", "1376051696000"}) {
    EXPECT_FALSE(ParseLegacyTimestamp(s).has_value()) << s;
  }
}

TEST(LegacyTimestamp, WindowIsInclusive) {
  TimePoint now = sys_days(year(2013) / 8 / 8) + hours(12);
  EXPECT_TRUE(WithinWindow(now - minutes(15), now, minutes(15)));
  EXPECT_TRUE(WithinWindow(now + minutes(15), now, minutes(15)));
  EXPECT_FALSE(WithinWindow(now - minutes(15) - milliseconds(1), now, minutes(15)));
  EXPECT_FALSE(WithinWindow(now + minutes(15) + milliseconds(1), now, minutes(15)));
}

TEST(ParseLegacyTimestamp, RefusesYearsTheClockCannotHold) {
  // Regression (fuzz_timestamp): 9999 overflowed the nanosecond clock: undefined behaviour.
  EXPECT_FALSE(ParseLegacyTimestamp("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(ParseLegacyTimestamp("1969-12-31T23:59:59Z"));
  EXPECT_TRUE(ParseLegacyTimestamp("2200-01-01T00:00:00Z"));
}

// Regression: the client formatted these with fmt 9, which renders a system_clock time point
// in the local time zone, so a device outside UTC signed requests (and wrote credential
// expirations) hours off.
TEST(IsoTimestamps, AreUtcWhateverTheLocalTimeZone) {
  TimePoint t = TimePoint(seconds(1'795'510'047)) + milliseconds(5);
  for (const char* zone : {"UTC0", "EST+5", "IST-5:30"}) {
    testing::ScopedTimeZone tz(zone);
    EXPECT_EQ(IsoSeconds(t), "2026-11-24T08:47:27Z") << zone;
    EXPECT_EQ(IsoMillis(t), "2026-11-24T08:47:27.005Z") << zone;
    EXPECT_EQ(*ParseLegacyTimestamp(IsoMillis(t)), t) << zone;
  }
}

}  // namespace
}  // namespace vendo::protocol
