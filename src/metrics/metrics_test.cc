#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "metrics/activity.h"
#include "metrics/prom_recorder.h"
#include "testing/fixed_clock.h"

namespace vendo::metrics {
namespace {

using namespace std::chrono_literals;

TEST(EndpointOf, NamesKnownEndpointsOnly) {
  EXPECT_EQ(EndpointOf("/gettoken"), "gettoken");
  EXPECT_EQ(EndpointOf("/apps/photos/login"), "login");
  EXPECT_EQ(EndpointOf("/apps/photos/register.jsp"), "register.jsp");
  EXPECT_EQ(EndpointOf("/apps/photos"), "home");
  EXPECT_EQ(EndpointOf("/apps/photos/"), "home");
  EXPECT_EQ(EndpointOf("/"), "home");
  EXPECT_EQ(EndpointOf("/v2/apps/photos/token"), "v2/token");
  EXPECT_EQ(EndpointOf("/v2/apps/photos/devices/self/rotate"), "v2/devices/self/rotate");
  EXPECT_EQ(EndpointOf("/v2/apps/photos/whatever"), "other");
  EXPECT_EQ(EndpointOf("/readyz"), "readyz");
  EXPECT_EQ(EndpointOf("/random/attacker/path"), "other");
  EXPECT_EQ(EndpointOf(""), "other");
}

TEST(Activity, CountsPerMinuteOverTheLastHour) {
  FixedClock clock(std::chrono::system_clock::time_point(std::chrono::minutes(1'000'000)));
  Activity a(clock);
  a.Event("p", "vend", "ok");
  a.Event("p", "vend", "ok");
  a.Event("p", "login", "unauthenticated");
  clock.Advance(2min);
  a.Event("p", "vend", "internal");
  auto hour = a.LastHour();
  ASSERT_EQ(hour.size(), 60u);
  EXPECT_EQ(hour.back().minute, 1'000'002);
  EXPECT_EQ(hour.back().errors, 1u);
  EXPECT_EQ(hour[57].vends, 2u);
  EXPECT_EQ(hour[57].errors, 1u);
  EXPECT_EQ(hour[58].vends, 0u);
  auto recent = a.Recent();
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].action, "vend");
  EXPECT_EQ(recent[1].outcome, "unauthenticated");
  clock.Advance(61min);  // an hour later the old minutes are gone
  for (const auto& m : a.LastHour()) {
    EXPECT_EQ(m.vends + m.errors, 0u);
  }
}

TEST(PromRecorder, ScrapesWhatWasRecorded) {
  FixedClock clock(std::chrono::system_clock::time_point(std::chrono::hours(500'000)));
  PromRecorder r(clock);
  r.Request("photos", "/apps/photos/gettoken", 200, 3ms);
  r.Request("photos", "/apps/photos/gettoken", 200, 4ms);
  r.Request("photos", "/apps/photos/gettoken?uid=secret", 401, 1ms);
  r.Event("photos", "login", "rate_limited");
  r.Event("photos", "register_user", "ok");
  r.StoreCall("find_device", 2ms);
  r.AddIssuer("photos", "aws-assume-role",
              [] { return IssuerCounters{.cache_hits = 7, .cache_misses = 2, .sts_calls = 3}; });
  std::string text = r.Scrape();
  EXPECT_NE(
      text.find(R"(vendo_http_requests_total{app="photos",endpoint="gettoken",status="200"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(endpoint="other",status="401"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(vendo_lockouts_total{app="photos"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(vendo_registrations_total{app="photos",outcome="ok"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(vendo_credential_cache_hits_total{app="photos"} 7)"), std::string::npos);
  EXPECT_NE(text.find(R"(vendo_sts_calls_total{app="photos",issuer="aws-assume-role"} 3)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(vendo_store_call_duration_seconds_count{operation="find_device"} 1)"),
            std::string::npos);
  EXPECT_EQ(text.find("secret"), std::string::npos);
}

TEST(PromRecorder, ExportsProcessFamiliesAndTheVersion) {
  FixedClock clock(std::chrono::system_clock::time_point(std::chrono::hours(500'000)));
  PromRecorder r(clock, "1.2.3");
  std::string text = r.Scrape();
  EXPECT_NE(text.find(R"(vendo_build_info{version="1.2.3"} 1)"), std::string::npos) << text;
  for (const char* name :
       {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ",
        "process_max_fds ", "process_start_time_seconds "}) {
    auto at = text.find(std::string("\n") + name);
    ASSERT_NE(at, std::string::npos) << name;
    double value = std::stod(text.substr(at + 1 + std::string(name).size()));
    EXPECT_GT(value, 0) << name;
  }
}

// Each recorder keeps its own stripes: two recorders used from one thread never mix counts.
TEST(PromRecorder, RecordersInOneThreadKeepTheirOwnCounts) {
  FixedClock clock(std::chrono::system_clock::time_point(std::chrono::hours(500'000)));
  auto first = std::make_unique<PromRecorder>(clock);
  PromRecorder second(clock);
  for (int i = 0; i < 3; ++i) {
    first->Request("a", "/gettoken", 200, 1ms);
    first->Event("a", "vend", "ok");
    second.Request("a", "/gettoken", 200, 1ms);
  }
  EXPECT_NE(first->Scrape().find(R"(endpoint="gettoken",status="200"} 3)"), std::string::npos);
  EXPECT_NE(second.Scrape().find(R"(endpoint="gettoken",status="200"} 3)"), std::string::npos);
  EXPECT_EQ(second.Scrape().find(R"(vendo_vends_total{app="a")"), std::string::npos);
  first.reset();  // a recorder made after another is gone starts from nothing
  PromRecorder third(clock);
  third.Event("a", "vend", "ok");
  EXPECT_NE(third.Scrape().find(R"(vendo_vends_total{app="a",outcome="ok"} 1)"), std::string::npos);
}

TEST(PromRecorder, CountsEveryCallFromManyThreads) {
  FixedClock clock(std::chrono::system_clock::time_point(std::chrono::hours(500'000)));
  PromRecorder r(clock);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r] {
      for (int i = 0; i < 1000; ++i) {
        r.Request("a", "/gettoken", i % 2 == 0 ? 200 : 403, 1ms);
        r.Event("a", "login", i % 2 == 0 ? "ok" : "locked");
        r.StoreCall("find_device", 1ms);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::string text = r.Scrape();
  EXPECT_NE(text.find(R"(status="200"} 2000)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(status="403"} 2000)"), std::string::npos);
  EXPECT_NE(text.find(R"(vendo_logins_total{app="a",outcome="locked"} 2000)"), std::string::npos);
  EXPECT_NE(text.find(R"(vendo_lockouts_total{app="a"} 2000)"), std::string::npos);
  EXPECT_NE(text.find(R"(vendo_store_call_duration_seconds_count{operation="find_device"} 4000)"),
            std::string::npos);
}

// Many series (600 apps) are each counted exactly.
TEST(PromRecorder, CountsManySeriesExactly) {
  FixedClock clock(std::chrono::system_clock::time_point(std::chrono::hours(500'000)));
  PromRecorder r(clock);
  for (int round = 0; round < 2; ++round) {
    for (int app = 0; app < 600; ++app) {
      r.Event("app" + std::to_string(app), "vend", "ok");
    }
  }
  std::string text = r.Scrape();
  EXPECT_NE(text.find(R"(vendo_vends_total{app="app0",outcome="ok"} 2)"), std::string::npos);
  EXPECT_NE(text.find(R"(vendo_vends_total{app="app599",outcome="ok"} 2)"), std::string::npos);
}

}  // namespace
}  // namespace vendo::metrics
