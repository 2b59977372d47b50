#include "common/striped.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace vendo {
namespace {

TEST(Striped, SumsEveryThreadsUpdatesExactly) {
  Striped<std::uint64_t> counts;
  std::vector<std::thread> threads;
  threads.reserve(2 * kStripes);
  for (int t = 0; t < 2 * static_cast<int>(kStripes); ++t) {  // more threads than stripes
    threads.emplace_back([&counts] {
      for (int i = 0; i < 1000; ++i) {
        counts.Update([](std::uint64_t& n) { ++n; });
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::uint64_t total = 0;
  counts.ForEach([&](const std::uint64_t& n) { total += n; });
  EXPECT_EQ(total, 2 * kStripes * 1000);
}

TEST(Striped, AThreadKeepsItsStripeAndThreadsSpreadOverThem) {
  std::size_t mine = ThreadStripe();
  EXPECT_EQ(ThreadStripe(), mine);
  std::set<std::size_t> seen;
  for (std::size_t i = 0; i < kStripes; ++i) {
    std::thread([&seen] { seen.insert(ThreadStripe()); }).join();
  }
  EXPECT_EQ(seen.size(), kStripes);  // kStripes new threads in turn draw every stripe once
}

}  // namespace
}  // namespace vendo
