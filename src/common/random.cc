#include "common/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>

#include "common/encoding.h"

namespace vendo {

std::vector<std::uint8_t> Random::Bytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  Fill(out);
  return out;
}

std::string Random::Hex(std::size_t n) { return HexEncode(Bytes(n)); }

void OsRandom::Fill(std::span<std::uint8_t> out) {
  if (out.empty()) {
    return;
  }
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::abort();
  }
}

void ScriptedRandom::Push(std::vector<std::uint8_t> bytes) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(bytes));
}

void ScriptedRandom::Fill(std::span<std::uint8_t> out) {
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

}  // namespace vendo
