// ConcurrencyLimit: at most N holders at once, and no waiting: a caller that finds every slot
// taken is told so at once, to answer "busy" instead of queueing (argon2id takes 19 MiB and
// tens of milliseconds per password; 96 queued sign-ups took 650 MiB and stalled /healthz).
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>

namespace vendo {

class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(std::size_t max) : max_(max == 0 ? 1 : max) {}

  // Held while the work runs; gives its slot back when destroyed.
  class Slot {
   public:
    explicit Slot(ConcurrencyLimit& limit) : limit_(&limit) {}
    Slot(Slot&& other) noexcept : limit_(other.limit_) { other.limit_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    Slot(const Slot&) = delete;
    ~Slot() {
      if (limit_ != nullptr) {
        limit_->in_use_.fetch_sub(1, std::memory_order_release);
      }
    }

   private:
    ConcurrencyLimit* limit_;
  };

  // A slot, or nullopt when all are taken.
  std::optional<Slot> TryAcquire() {
    std::size_t n = in_use_.load(std::memory_order_relaxed);
    while (n < max_) {
      if (in_use_.compare_exchange_weak(n, n + 1, std::memory_order_acquire)) {
        return Slot(*this);
      }
    }
    return std::nullopt;
  }
  std::size_t max() const { return max_; }

 private:
  const std::size_t max_;
  std::atomic<std::size_t> in_use_{0};
};

}  // namespace vendo
