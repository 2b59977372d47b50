// HKDF-SHA256 (RFC 5869) over OpenSSL 3's EVP_KDF.
#pragma once

#include <cstdint>
#include <span>

#include "common/encoding.h"
#include "vendo/result.h"

namespace vendo::crypto {

[[nodiscard]] Result<Bytes> HkdfSha256(std::span<const std::uint8_t> ikm,
                                       std::span<const std::uint8_t> salt,
                                       std::span<const std::uint8_t> info, std::size_t length);

}  // namespace vendo::crypto
