// Network threads pinned to CPUs, and each connection handed to the thread on the CPU where
// the kernel handles its packets (SO_INCOMING_CPU), with `[server] pin_threads`.
//
// On a busy host most of a request's cost is the kernel's: a send wakes the peer, a receive
// wakes us. When the thread that answers a connection runs on the CPU that receives its
// packets, those wake-ups stay on one CPU; otherwise each one is an inter-processor interrupt
// (a VM exit on a virtual machine). Measured in docs/decisions.md 22.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace vendo::server {

class CpuPlan {
 public:
  // Thread i runs on allowed[i % allowed.size()]; `allowed` must not be empty.
  CpuPlan(std::vector<int> allowed, std::size_t threads);
  // The plan for the CPUs this process may run on (sched_getaffinity), or nullopt if they
  // cannot be read.
  static std::optional<CpuPlan> ForThisProcess(std::size_t threads);

  int CpuOf(std::size_t thread) const { return cpu_of_[thread]; }
  // The threads pinned on `cpu` (none for a CPU outside the plan).
  std::span<const std::size_t> ThreadsOn(int cpu) const;
  // The thread for a connection whose packets arrive on `cpu`: one pinned there (in turn, when
  // several are), or nullopt when none is.
  std::optional<std::size_t> ThreadFor(int cpu);

 private:
  std::vector<int> cpu_of_;                       // by thread
  std::vector<std::vector<std::size_t>> on_cpu_;  // by CPU number: its threads
  std::vector<std::size_t> next_;                 // by CPU number: whose turn
};

// `preferred`, unless it already serves clearly more connections than the least busy thread:
// then that one. Steering by CPU alone can pile every connection on one thread when the
// clients happened to connect from one CPU. `load[i]` is thread i's open connections.
std::size_t KeepBalanced(std::size_t preferred, std::span<const int> load);

// Pins the calling thread to `cpu`; false if the kernel refuses.
bool PinThisThread(int cpu);
// The CPU that handles a socket's incoming packets, or nullopt if the kernel does not say.
std::optional<int> IncomingCpu(int fd);

}  // namespace vendo::server
