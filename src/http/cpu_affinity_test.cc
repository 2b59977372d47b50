#include "http/cpu_affinity.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace vendo::server {
namespace {

TEST(CpuPlan, SpreadsThreadsOverTheAllowedCpusInTurn) {
  CpuPlan plan({2, 5}, 3);
  EXPECT_EQ(plan.CpuOf(0), 2);
  EXPECT_EQ(plan.CpuOf(1), 5);
  EXPECT_EQ(plan.CpuOf(2), 2);
  // Connections arriving on CPU 2 alternate between its two threads; CPU 5 has one.
  EXPECT_EQ(plan.ThreadFor(2), 0u);
  EXPECT_EQ(plan.ThreadFor(2), 2u);
  EXPECT_EQ(plan.ThreadFor(2), 0u);
  EXPECT_EQ(plan.ThreadFor(5), 1u);
  EXPECT_EQ(plan.ThreadFor(5), 1u);
  // CPUs with no thread (or no CPU at all) have none.
  EXPECT_EQ(plan.ThreadFor(3), std::nullopt);
  EXPECT_EQ(plan.ThreadFor(9), std::nullopt);
  EXPECT_EQ(plan.ThreadFor(-1), std::nullopt);
}

TEST(CpuPlan, ForThisProcessCoversTheCpusItMayUse) {
  auto plan = CpuPlan::ForThisProcess(2);
  ASSERT_TRUE(plan.has_value());
  EXPECT_TRUE(plan->ThreadFor(plan->CpuOf(0)).has_value());
  EXPECT_TRUE(plan->ThreadFor(plan->CpuOf(1)).has_value());
}

TEST(KeepBalanced, FollowsThePreferenceUntilItsThreadIsClearlyBusier) {
  std::vector<int> load = {0, 0};
  EXPECT_EQ(KeepBalanced(0, load), 0u);
  load = {2, 0};  // within the slack (2)
  EXPECT_EQ(KeepBalanced(0, load), 0u);
  load = {3, 0};
  EXPECT_EQ(KeepBalanced(0, load), 1u);
  load = {36, 28};  // fair share 32: slack 4
  EXPECT_EQ(KeepBalanced(0, load), 1u);
  load = {31, 28};  // fair share 29: slack 3
  EXPECT_EQ(KeepBalanced(0, load), 0u);
  load = {10, 40, 10};
  EXPECT_EQ(KeepBalanced(2, load), 2u);
  EXPECT_EQ(KeepBalanced(1, load), 0u);
}

// Connections that all arrive on one CPU still end up spread over the threads.
TEST(KeepBalanced, SpreadsConnectionsThatAllPreferOneThread) {
  std::vector<int> load = {0, 0};
  for (int i = 0; i < 64; ++i) {
    ++load[KeepBalanced(0, load)];
  }
  EXPECT_LE(std::abs(load[0] - load[1]), 6) << load[0] << " " << load[1];
}

TEST(PinThisThread, PinsToAnAllowedCpuAndIncomingCpuReadsASocket) {
  auto plan = CpuPlan::ForThisProcess(1);
  ASSERT_TRUE(plan.has_value());
  cpu_set_t before;
  ASSERT_EQ(sched_getaffinity(0, sizeof before, &before), 0);
  EXPECT_TRUE(PinThisThread(plan->CpuOf(0)));
  EXPECT_EQ(sched_getcpu(), plan->CpuOf(0));
  ASSERT_EQ(sched_setaffinity(0, sizeof before, &before), 0);  // leave the test thread as it was

  // A TCP socket that has received a packet names the CPU the kernel handled it on.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  int served = accept(listener, nullptr, nullptr);
  ASSERT_GE(served, 0);
  char byte = 'x';
  ASSERT_EQ(write(client, &byte, 1), 1);
  ASSERT_EQ(read(served, &byte, 1), 1);
  auto cpu = IncomingCpu(served);
  ASSERT_TRUE(cpu.has_value());
  EXPECT_GE(*cpu, 0);
  EXPECT_LT(*cpu, sysconf(_SC_NPROCESSORS_CONF));
  close(served);
  close(client);
  close(listener);
  // A Unix socket has no receiving CPU, and a closed descriptor has nothing at all.
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  EXPECT_EQ(IncomingCpu(fds[0]), std::nullopt);
  close(fds[0]);
  close(fds[1]);
  EXPECT_EQ(IncomingCpu(-1), std::nullopt);
}

}  // namespace
}  // namespace vendo::server
