// ScriptedRandom: returns queued byte strings in order (each Fill consumes one queued chunk,
// which must be exactly the requested size), then falls back to OsRandom. For tests that pin
// IVs and keys.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <span>
#include <vector>

#include "common/random.h"

namespace vendo {

class ScriptedRandom final : public Random {
 public:
  void Push(std::vector<std::uint8_t> bytes) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(bytes));
  }
  void Fill(std::span<std::uint8_t> out) override {
    std::unique_lock lock(mu_);
    if (queue_.empty()) {
      lock.unlock();
      fallback_.Fill(out);
      return;
    }
    std::vector<std::uint8_t> next = std::move(queue_.front());
    queue_.pop_front();
    if (next.size() != out.size()) {
      std::abort();  // a test scripted the wrong size: fail loudly
    }
    std::copy(next.begin(), next.end(), out.begin());
  }

 private:
  std::mutex mu_;
  std::deque<std::vector<std::uint8_t>> queue_;
  OsRandom fallback_;
};

}  // namespace vendo
