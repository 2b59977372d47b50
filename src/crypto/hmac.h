// HMAC-SHA256, SHA-256 and constant-time comparison over OpenSSL 3.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace vendo::crypto {

using Digest = std::array<std::uint8_t, 32>;

Digest HmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message);
Digest HmacSha256(std::string_view key, std::string_view message);
Digest Sha256(std::span<const std::uint8_t> data);

// True iff a and b are equal; the time taken depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace vendo::crypto
