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
// The one definition of what usernames and passwords may be. The services, both sign-up pages
// (their hints, lengths and `pattern`), the CLI and the docs all say what these say.
struct TextRule {
  std::size_t min = 0;    // inclusive, in `unit`
  std::size_t max = 0;
  std::string_view hint;  // for people, as the pages and errors show it
};
// Usernames (both protocols): 3..128 UTF-16 characters, each a Unicode letter or digit, '_',
// '.' or '@' (the 2012 rule; '-' was never in it). None can act as a wildcard or a path.
inline constexpr TextRule kUsernameRule{3, 128, "3 to 128 letters, digits, _ . or @"};
inline constexpr std::string_view kUsernamePattern = "[\\p{L}\\p{N}_.@]+";  // HTML, v flag
// 2012 passwords: 6..128 UTF-16 characters, any.
inline constexpr TextRule kLegacyPasswordRule{6, 128, "6 to 128 characters"};
// v2 passwords: 8..1024 bytes of UTF-8.
inline constexpr TextRule kV2PasswordRule{8, 1024, "at least 8 characters (at most 1024 bytes)"};

bool IsValidUsername(std::string_view username);
bool IsValidPassword(std::string_view password);  // the 2012 rule
bool IsValidV2Password(std::string_view password);

}  // namespace vendo::protocol
