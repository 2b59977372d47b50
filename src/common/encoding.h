// Hex and base64 codecs (standard alphabet, '=' padding, no line breaks).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vendo/result.h"

namespace vendo {

using Bytes = std::vector<std::uint8_t>;

inline std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// The value of one hex digit (either case), or -1 if `c` is not one. Inline: the protocol
// decodes keys, signatures and escapes a digit at a time.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Decodes %XX escapes into `out` (and '+' into a space when `plus_is_space`, as forms do).
// Fails on a '%' not followed by two hex digits.
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space);
// The same, appending to `out` (on failure, `out` holds part of the decoding).
bool AppendPercentDecoded(std::string_view in, std::string& out, bool plus_is_space);

// Calls visit(key, value) with the still-encoded halves of each pair of "k=v&k2=v2" (empty
// pairs skipped; a name without '=' has an empty value). `visit` returns false for a pair it
// cannot decode. Fails with kInvalidArgument on such a pair or on more than `max_pairs` pairs.
template <typename Visit>
[[nodiscard]] Status VisitQueryPairs(std::string_view query, std::size_t max_pairs, Visit&& visit) {
  std::size_t pairs = 0;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    if (++pairs > max_pairs) {
      return Fail(ErrorCode::kInvalidArgument, "too many parameters");
    }
    std::size_t eq = pair.find('=');
    if (!visit(pair.substr(0, eq),
               eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1))) {
      return Fail(ErrorCode::kInvalidArgument, "malformed query or form encoding");
    }
  }
  return {};
}

// Splits "k=v&k2=v2" into decoded pairs (empty pairs skipped, a name without '=' has an empty
// value). Fails with kInvalidArgument on malformed escapes or more than `max_pairs` pairs.
[[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> DecodeQueryPairs(
    std::string_view query, bool plus_is_space, std::size_t max_pairs);
// The same, appending to `out`; `max_pairs` counts the pairs already there.
[[nodiscard]] Status AppendQueryPairs(std::string_view query, bool plus_is_space,
                                      std::size_t max_pairs,
                                      std::vector<std::pair<std::string, std::string>>& out);

// Reads exactly `n` decimal digits at s[pos] into `out`; false if any is missing or not a digit.
bool ReadDigits(std::string_view s, std::size_t pos, std::size_t n, int& out);

// Lower-case hex.
std::string HexEncode(std::span<const std::uint8_t> bytes);
// Accepts upper- and lower-case digits; fails on odd length or a non-hex character.
[[nodiscard]] Result<Bytes> HexDecode(std::string_view hex);
bool IsHex(std::string_view s);

std::string Base64Encode(std::span<const std::uint8_t> bytes);
// The same, appended to `out`.
void AppendBase64(std::string& out, std::span<const std::uint8_t> bytes);
// The length of the base64 of `n` bytes.
constexpr std::size_t Base64Size(std::size_t n) { return 4 * ((n + 2) / 3); }
// Strict: standard alphabet, padding required, no whitespace.
[[nodiscard]] Result<Bytes> Base64Decode(std::string_view b64);

// ASCII lower-casing (the 2012 protocol lower-cases host names and app names).
std::string AsciiLower(std::string_view s);
// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if it is malformed (overlong,
// surrogate, beyond U+10FFFF, truncated).
std::size_t DecodeUtf8(std::string_view s, std::size_t i, char32_t& cp);
bool IsValidUtf8(std::string_view s);
std::string AsciiUpper(std::string_view s);
// ASCII case-insensitive equality (header names and the like).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace vendo
