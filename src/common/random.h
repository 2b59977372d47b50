// Random: the only source of randomness (keys, IVs, ids), so tests can inject bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vendo {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with cryptographically secure random bytes. Thread-safe. Aborts if the OS
  // cannot provide randomness: continuing without it would be a security bug.
  virtual void Fill(std::span<std::uint8_t> out) = 0;

  std::vector<std::uint8_t> Bytes(std::size_t n);
  // n random bytes as 2n lower-case hex characters.
  std::string Hex(std::size_t n);
};

// OpenSSL's CSPRNG (RAND_bytes). Small requests are served from a per-thread buffer refilled
// 4 KiB at a time: RAND_bytes costs a getpid() syscall and DRBG locking per call, which a
// request that needs four IVs and keys should not pay four times. Bytes are wiped as they are
// handed out. Fork-safe: libvendo-client runs inside apps that fork, and a child drops the
// buffer it inherited (a pthread_atfork hook), so parent and child never share bytes.
class OsRandom final : public Random {
 public:
  void Fill(std::span<std::uint8_t> out) override;
};

}  // namespace vendo
