// Password hashing for protocol v2 users: argon2id (libargon2), stored as PHC strings
// ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"), so parameters can change without breaking
// existing hashes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/random.h"
#include "vendo/result.h"

namespace vendo::crypto {

struct Argon2Params {
  std::uint32_t memory_kib = 19456;  // OWASP's recommendation (2023): 19 MiB,
  std::uint32_t passes = 2;          // 2 iterations,
  std::uint32_t lanes = 1;           // 1 degree of parallelism
};

[[nodiscard]] Result<std::string> HashPassword(std::string_view password,
                                               const Argon2Params& params, Random& random);
// True iff `password` matches the PHC string `encoded` (constant time inside libargon2).
bool VerifyPassword(std::string_view encoded, std::string_view password);
bool IsArgon2Hash(std::string_view encoded);

}  // namespace vendo::crypto
