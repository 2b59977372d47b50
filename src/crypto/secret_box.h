// SecretBox: encryption at rest for device keys and password hashes.
//
// Each value is sealed with AES-256-GCM under the master key with a fresh random nonce; the
// record's identity (table, app, primary key) is the associated data, so a sealed value moved
// to another row fails to open. Sealed form: "v1:" + base64(nonce || ciphertext || tag).
// Thread-safe once constructed.
#pragma once

#include <string>
#include <string_view>

#include "common/random.h"
#include "common/secret.h"
#include "vendo/result.h"

namespace vendo::crypto {

inline constexpr std::size_t kMasterKeyBytes = 32;

class SecretBox {
 public:
  // `master_key` must be 32 bytes.
  SecretBox(SecretString master_key, Random& random);

  [[nodiscard]] Result<std::string> Seal(std::string_view plaintext,
                                         std::string_view context) const;
  [[nodiscard]] Result<SecretString> Open(std::string_view sealed, std::string_view context) const;

 private:
  SecretString key_;
  Random& random_;
};

// Reads a master key file: 64 hex characters (whitespace around them is ignored). Refuses a
// file that others can read, or its group unless root owns it (0640 root:vendo is fine).
[[nodiscard]] Result<SecretString> LoadMasterKey(const std::string& path);
// Creates a new master key file with mode 0600; fails if the file exists.
[[nodiscard]] Status CreateMasterKeyFile(const std::string& path, Random& random);

}  // namespace vendo::crypto
