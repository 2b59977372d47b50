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

// A uid's characters: ASCII letters, digits and - _ . = + @, the ones that STS allows in
// session names and tags, and none of IAM's wildcard or variable characters or a path
// separator. Every uid the stock 2012 clients make (hex, upper- or lower-case UUIDs) fits.
bool IsUidChar(char c);
// Anonymous uid: 24..128 uid characters.
bool IsValidUid(std::string_view uid);
// Identity uid (the 2012 server had no rule): 1..128 uid characters.
bool IsValidIdentityUid(std::string_view uid);
inline constexpr std::string_view kUidCharsRule = "letters, digits and - _ . = + @";
// 3..128 characters, each a Unicode letter or digit, '_', '.' or '@'.
bool IsValidUsername(std::string_view username);
// 6..128 characters, any.
bool IsValidPassword(std::string_view password);

}  // namespace vendo::protocol
