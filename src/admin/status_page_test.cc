#include "admin/status_page.h"

#include <gtest/gtest.h>

#include "testing/time_zone.h"

namespace vendo::server {
namespace {

TEST(StatusPage, ShowsAppsHealthTheChartAndErrorsEscaped) {
  testing::ScopedTimeZone tz("EST+5");  // times say UTC, so they must be UTC (regression)
  StatusData d;
  d.version = "0.1.0";
  d.now = std::chrono::system_clock::time_point(std::chrono::hours(500'000));
  d.uptime = std::chrono::minutes(125);
  d.apps = {{.name = "photos",
             .mode = "identity",
             .issuer = "aws-assume-role",
             .devices = 12,
             .users = 3,
             .issuer_problem = ""},
            {.name = "<evil>",
             .mode = "anonymous",
             .issuer = "dev",
             .devices = -1,
             .users = 0,
             .issuer_problem = "no credentials"}};
  for (int i = 0; i < 60; ++i) {
    d.last_hour.push_back({.minute = i, .vends = static_cast<std::uint64_t>(i), .errors = 1});
  }
  d.recent_errors = {{d.now, "photos", "login", "unauthenticated"}};
  std::string page = StatusPage(d);
  EXPECT_NE(page.find("<td>photos</td><td>identity</td><td>aws-assume-role</td>"
                      "<td class=\"n\">12</td><td class=\"n\">3</td><td class=\"ok\">ready</td>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("&lt;evil&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<evil>"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"n\">?</td>"), std::string::npos);  // the store did not answer
  EXPECT_NE(page.find("no credentials"), std::string::npos);
  EXPECT_NE(page.find("up 2 h 5 min"), std::string::npos);
  EXPECT_NE(page.find("2027-01-15 08:00:00 UTC"), std::string::npos);  // hour 500,000
  EXPECT_NE(page.find("<td>08:00:00</td><td>photos</td>"), std::string::npos);
  EXPECT_NE(page.find("1770 vends, 60 errors"), std::string::npos);  // 0+1+...+59
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("unauthenticated"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg"));  // no external assets
}

TEST(StatusPage, ChartScalesToThePeakAndDrawsBothSeries) {
  std::vector<metrics::MinuteCounts> minutes(60);
  minutes[59].vends = 10;
  std::string svg = ActivityChart(minutes);
  EXPECT_GT(std::count(svg.begin(), svg.end(), '\n'), 5);
  EXPECT_NE(svg.find(">10</text>"), std::string::npos);  // the axis shows the peak
  EXPECT_NE(svg.find("stroke=\"#2456d3\""), std::string::npos);
  EXPECT_NE(svg.find("stroke=\"#d1495b\""), std::string::npos);
  EXPECT_NE(svg.find("716.0,8.0"), std::string::npos);  // the last vend point at the top
}

}  // namespace
}  // namespace vendo::server
