#include "common/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "common/encoding.h"

namespace vendo {

std::vector<std::uint8_t> Random::Bytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  Fill(out);
  return out;
}

std::string Random::Hex(std::size_t n) { return HexEncode(Bytes(n)); }

namespace {

void RandBytes(std::uint8_t* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    std::abort();
  }
}

constexpr std::size_t kPoolBytes = 4096;
constexpr std::size_t kDirectThreshold = 256;  // larger requests bypass the pool

// Counts fork()s in this process's line: a child starts with a copy of its parent's pools,
// and must not hand out the bytes its parent will hand out too.
std::atomic<std::uint64_t> g_fork_generation{0};

void ForgetPoolsInChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct RandomPool {
  std::array<std::uint8_t, kPoolBytes> bytes{};
  std::size_t used = kPoolBytes;
  std::uint64_t generation = 0;
  ~RandomPool() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

}  // namespace

void OsRandom::Fill(std::span<std::uint8_t> out) {
  if (out.empty()) {
    return;
  }
  if (out.size() > kDirectThreshold) {
    RandBytes(out.data(), out.size());
    return;
  }
  static const bool registered = pthread_atfork(nullptr, nullptr, ForgetPoolsInChild) == 0;
  if (!registered) {
    RandBytes(out.data(), out.size());  // no fork hook: never pool
    return;
  }
  thread_local RandomPool pool;
  if (std::uint64_t now = g_fork_generation.load(std::memory_order_relaxed);
      pool.generation != now) {
    OPENSSL_cleanse(pool.bytes.data(), pool.bytes.size());  // the parent's: never ours
    pool.used = kPoolBytes;
    pool.generation = now;
  }
  std::size_t done = 0;
  while (done < out.size()) {
    if (pool.used == kPoolBytes) {
      RandBytes(pool.bytes.data(), kPoolBytes);
      pool.used = 0;
    }
    std::size_t n = std::min(out.size() - done, kPoolBytes - pool.used);
    std::memcpy(out.data() + done, pool.bytes.data() + pool.used, n);
    OPENSSL_cleanse(pool.bytes.data() + pool.used, n);
    pool.used += n;
    done += n;
  }
}

}  // namespace vendo
