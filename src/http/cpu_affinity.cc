#include "http/cpu_affinity.h"

#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <algorithm>

namespace vendo::server {

CpuPlan::CpuPlan(std::vector<int> allowed, std::size_t threads) {
  int max_cpu = 0;
  for (int cpu : allowed) {
    max_cpu = std::max(max_cpu, cpu);
  }
  on_cpu_.resize(static_cast<std::size_t>(max_cpu) + 1);
  next_.resize(on_cpu_.size());
  for (std::size_t i = 0; i < threads; ++i) {
    int cpu = allowed[i % allowed.size()];
    cpu_of_.push_back(cpu);
    on_cpu_[static_cast<std::size_t>(cpu)].push_back(i);
  }
}

std::optional<CpuPlan> CpuPlan::ForThisProcess(std::size_t threads) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    return std::nullopt;
  }
  std::vector<int> allowed;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) {
      allowed.push_back(cpu);
    }
  }
  if (allowed.empty()) {
    return std::nullopt;
  }
  return CpuPlan(std::move(allowed), threads);
}

std::span<const std::size_t> CpuPlan::ThreadsOn(int cpu) const {
  if (cpu < 0 || static_cast<std::size_t>(cpu) >= on_cpu_.size()) {
    return {};
  }
  return on_cpu_[static_cast<std::size_t>(cpu)];
}

std::optional<std::size_t> CpuPlan::ThreadFor(int cpu) {
  if (cpu < 0 || static_cast<std::size_t>(cpu) >= on_cpu_.size()) {
    return std::nullopt;
  }
  auto at = static_cast<std::size_t>(cpu);
  const auto& threads = on_cpu_[at];
  if (threads.empty()) {
    return std::nullopt;
  }
  return threads[next_[at]++ % threads.size()];
}

std::size_t KeepBalanced(std::size_t preferred, std::span<const int> load) {
  std::size_t least = 0;
  long total = 0;
  for (std::size_t i = 0; i < load.size(); ++i) {
    total += load[i];
    if (load[i] < load[least]) {
      least = i;
    }
  }
  // Slack: an eighth of a fair share, at least 2, so that steering mostly wins.
  long fair = total / static_cast<long>(std::max<std::size_t>(1, load.size()));
  long slack = std::max(2L, fair / 8);
  return load[preferred] > load[least] + slack ? least : preferred;
}

bool PinThisThread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

std::optional<int> IncomingCpu(int fd) {
  int cpu = -1;
  socklen_t len = sizeof cpu;
  if (::getsockopt(fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu, &len) != 0 || cpu < 0) {
    return std::nullopt;
  }
  return cpu;
}

}  // namespace vendo::server
