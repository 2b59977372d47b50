// The admin listener's status page: apps, counts, issuer health, vends and errors per minute
// over the last hour (an inline SVG chart), and the latest errors. A pure function of its data.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/activity.h"

namespace vendo::server {

struct StatusApp {
  std::string name;
  std::string mode;           // anonymous or identity
  std::string issuer;         // dev, aws-federation, aws-assume-role
  std::int64_t devices = -1;  // -1: the store did not answer
  std::int64_t users = -1;
  std::string issuer_problem;  // "" when the issuer holds credentials
};

struct StatusData {
  std::string version;
  std::chrono::system_clock::time_point now;
  std::chrono::seconds uptime{0};
  bool store_ok = true;
  std::vector<StatusApp> apps;
  std::vector<metrics::MinuteCounts> last_hour;     // oldest first
  std::vector<metrics::RecentError> recent_errors;  // newest first
};

std::string StatusPage(const StatusData& data);

// Two series (vends, errors) per minute as an accessible inline SVG chart.
std::string ActivityChart(const std::vector<metrics::MinuteCounts>& minutes);

}  // namespace vendo::server
