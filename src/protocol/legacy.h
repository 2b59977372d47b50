// The 2012 AWS Token Vending Machine wire format, as pure functions.
//
// See ../shared/specs/aws-tvm-legacy-protocol.md and docs/compatibility.md. Nothing here reads
// the clock, the network or a random source: IVs and keys are arguments.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vendo/credentials.h"
#include "vendo/result.h"

namespace vendo::protocol::legacy {

enum class Mode { kAnonymous, kIdentity };

// HMAC-SHA256 over the timestamp text, keyed with the key's text (not its hex-decoded bytes):
// standard base64 for anonymous apps, lower-case hex for identity apps.
std::string Sign(Mode mode, std::string_view key_text, std::string_view timestamp);
// Constant-time, case-sensitive comparison against Sign().
bool VerifySignature(Mode mode, std::string_view key_text, std::string_view timestamp,
                     std::string_view signature);

// Lower-case, strips one leading "http://" or "https://" and one trailing '/'; keeps port and
// path. This is how the 2012 clients turn their configured URL into the salt's endpoint.
std::string NormalizeEndpoint(std::string_view url);

// LowerHex(HMAC-SHA256(key = password, msg = username + lower(app_name) + endpoint)).
// `endpoint` must already be normalized.
std::string SaltedPasswordHash(std::string_view password, std::string_view username,
                               std::string_view app_name, std::string_view endpoint);

// {\taccessKey: "…",\tsecretKey: "…",\tsecurityToken: "…",\texpirationDate: "<epoch ms>"}
std::string TokenPlaintext(const Credentials& creds);
// {\tkey: "<device key>"}
std::string KeyPlaintext(std::string_view device_key);

// True iff `key_hex` decodes to an AES key: hex of 32, 48 or 64 characters.
bool IsUsableAesKey(std::string_view key_hex);

// Base64(iv || AES-CBC-PKCS7(HexDecode(key_hex), iv, plaintext)). `iv` is 16 bytes. The HTTP
// layer appends the CRLF.
[[nodiscard]] Result<std::string> Wrap(std::string_view plaintext, std::string_view key_hex,
                                       std::span<const std::uint8_t> iv);
// The inverse of Wrap, as a client does it; tolerates a trailing CRLF.
[[nodiscard]] Result<std::string> Unwrap(std::string_view body, std::string_view key_hex);

// The login response is wrapped under the first 32 hex characters of the salted hash.
inline std::string_view LoginWrapKey(std::string_view salted_hash) {
  return salted_hash.substr(0, 32);
}

}  // namespace vendo::protocol::legacy
