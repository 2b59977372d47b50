// Protocol v2's request signing and response sealing (docs/protocol-v2.md), as pure functions:
// the server and the client library share them, and tests/vectors/v2 checks them.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "vendo/result.h"

namespace vendo::protocol::v2 {

inline constexpr std::string_view kScheme = "VENDO-HMAC-SHA256";
inline constexpr std::size_t kSecretBytes = 32;
inline constexpr std::size_t kNonceBytes = 16;

// base64url without padding (RFC 4648 section 5).
std::string Base64UrlEncode(std::span<const std::uint8_t> bytes);
[[nodiscard]] Result<Bytes> Base64UrlDecode(std::string_view text);

std::string CanonicalRequest(std::string_view method, std::string_view path, std::string_view body,
                             std::string_view timestamp, std::string_view nonce,
                             std::string_view device_id);
// Lower-case hex HMAC-SHA256 of the canonical request under the device secret.
std::string Signature(std::span<const std::uint8_t> device_secret, std::string_view canonical);

struct Authorization {
  std::string device_id;
  std::string timestamp;
  std::string nonce;
  std::string signature;
};
// Parses "VENDO-HMAC-SHA256 Device=...,Timestamp=...,Nonce=...,Signature=...".
[[nodiscard]] Result<Authorization> ParseAuthorization(std::string_view header);
std::string FormatAuthorization(const Authorization& a);

// The body of POST token: empty or a JSON object, with an optional boolean "seal". Returns
// whether to seal; kInvalidArgument (with what is wrong) otherwise.
[[nodiscard]] Result<bool> ParseTokenBody(std::string_view body);

// Seals a response for the device (AES-256-GCM under HKDF(secret, nonce, device id));
// `iv` is 12 random bytes. Returns base64url(iv || ciphertext || tag).
[[nodiscard]] Result<std::string> Seal(std::span<const std::uint8_t> device_secret,
                                       std::string_view device_id, std::string_view nonce,
                                       std::span<const std::uint8_t> iv,
                                       std::string_view plaintext);
[[nodiscard]] Result<std::string> Unseal(std::span<const std::uint8_t> device_secret,
                                         std::string_view device_id, std::string_view nonce,
                                         std::string_view sealed);

}  // namespace vendo::protocol::v2
