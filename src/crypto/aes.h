// AES modes over OpenSSL 3: CBC with PKCS#7 (the 2012 protocol) and GCM (at-rest sealing).
#pragma once

#include <cstdint>
#include <span>

#include "common/encoding.h"
#include "vendo/result.h"

namespace vendo::crypto {

inline constexpr std::size_t kAesBlock = 16;
inline constexpr std::size_t kGcmNonce = 12;
inline constexpr std::size_t kGcmTag = 16;

// AES-CBC with PKCS#7 padding; the key must be 16, 24 or 32 bytes, the IV 16 bytes.
[[nodiscard]] Result<Bytes> AesCbcEncrypt(std::span<const std::uint8_t> key,
                                          std::span<const std::uint8_t> iv,
                                          std::span<const std::uint8_t> plaintext);
// The same, into `out` (at least plaintext.size() + 16 bytes); returns the length written.
[[nodiscard]] Result<std::size_t> AesCbcEncryptTo(std::span<const std::uint8_t> key,
                                                  std::span<const std::uint8_t> iv,
                                                  std::span<const std::uint8_t> plaintext,
                                                  std::span<std::uint8_t> out);
[[nodiscard]] Result<Bytes> AesCbcDecrypt(std::span<const std::uint8_t> key,
                                          std::span<const std::uint8_t> iv,
                                          std::span<const std::uint8_t> ciphertext);

// AES-256-GCM. Returns ciphertext || 16-byte tag. `aad` is authenticated, not encrypted.
[[nodiscard]] Result<Bytes> AesGcmSeal(std::span<const std::uint8_t> key,
                                       std::span<const std::uint8_t> nonce,
                                       std::span<const std::uint8_t> aad,
                                       std::span<const std::uint8_t> plaintext);
// Fails with kUnauthenticated when the tag does not verify.
[[nodiscard]] Result<Bytes> AesGcmOpen(std::span<const std::uint8_t> key,
                                       std::span<const std::uint8_t> nonce,
                                       std::span<const std::uint8_t> aad,
                                       std::span<const std::uint8_t> sealed);

}  // namespace vendo::crypto
