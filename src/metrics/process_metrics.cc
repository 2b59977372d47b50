#include "metrics/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

namespace vendo::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Set while static objects are built, that is, when the process starts.
const double kStartSeconds =
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

MetricFamily One(const char* name, const char* help, MetricType type, double value) {
  ClientMetric m;
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return MetricFamily{name, help, type, {m}};
}

double ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) {
    return 0;
  }
  unsigned long size = 0;
  unsigned long resident = 0;
  int read = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return read == 2 ? static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE))
                   : 0;
}

double OpenFds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

std::vector<MetricFamily> ProcessFamilies(std::string_view version) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);

  std::vector<MetricFamily> out;
  out.push_back(One("process_cpu_seconds_total", "User and system CPU time spent, in seconds",
                    MetricType::Counter, seconds(usage.ru_utime) + seconds(usage.ru_stime)));
  out.push_back(One("process_resident_memory_bytes", "Resident memory, in bytes", MetricType::Gauge,
                    ResidentBytes()));
  out.push_back(One("process_open_fds", "Open file descriptors", MetricType::Gauge, OpenFds()));
  out.push_back(One("process_max_fds", "The open file descriptor limit", MetricType::Gauge,
                    static_cast<double>(files.rlim_cur)));
  out.push_back(One("process_start_time_seconds", "Start time, in seconds since the epoch",
                    MetricType::Gauge, kStartSeconds));
  MetricFamily build =
      One("vendo_build_info", "The running version (always 1)", MetricType::Gauge, 1);
  build.metric.front().label.push_back({"version", std::string(version)});
  out.push_back(std::move(build));
  return out;
}

}  // namespace vendo::metrics
