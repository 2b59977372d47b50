#include "crypto/password.h"

#include <argon2.h>

#include <vector>

namespace vendo::crypto {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

Result<std::string> HashPassword(std::string_view password, const Argon2Params& p,
                                 Random& random) {
  auto salt = random.Bytes(kSaltBytes);
  std::vector<char> encoded(argon2_encodedlen(p.passes, p.memory_kib, p.lanes, kSaltBytes,
                                              kHashBytes, Argon2_id));
  int rc = argon2id_hash_encoded(p.passes, p.memory_kib, p.lanes, password.data(),
                                 password.size(), salt.data(), salt.size(), kHashBytes,
                                 encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return Fail(ErrorCode::kInternal, std::string("argon2id: ") + argon2_error_message(rc));
  }
  return std::string(encoded.data());
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  std::string phc(encoded);  // argon2 wants NUL-terminated
  return IsArgon2Hash(phc) &&
         argon2id_verify(phc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

bool IsArgon2Hash(std::string_view encoded) { return encoded.starts_with("$argon2id$"); }

}  // namespace vendo::crypto
