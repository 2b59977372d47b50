// Input rules of the 2012 protocol, plus the limits vendo adds (docs/compatibility.md).
#pragma once

#include <cstddef>
#include <string_view>

#include "common/encoding.h"

namespace vendo::protocol {

inline constexpr std::size_t kMinUidLength = 24;     // the 2012 rule
inline constexpr std::size_t kMaxUidLength = 128;    // vendo's sane maximum
inline constexpr std::size_t kMaxParamBytes = 1024;  // any single 2012 parameter

using vendo::IsValidUtf8;  // common/encoding.h
// Length in UTF-16 code units, as Java's String.length() counts. `s` must be valid UTF-8.
std::size_t Utf16Length(std::string_view s);

// Anonymous uid: 24..128 characters of printable ASCII (no spaces or controls).
bool IsValidUid(std::string_view uid);
// 3..128 characters, each a Unicode letter or digit, '_', '.' or '@'.
bool IsValidUsername(std::string_view username);
// 6..128 characters, any.
bool IsValidPassword(std::string_view password);

}  // namespace vendo::protocol
