#include "protocol/validate.h"

#include <clocale>
#include <cstdint>
#include <cwctype>

#include "common/encoding.h"

namespace vendo::protocol {
namespace {

// glibc's C.UTF-8 locale classifies all of Unicode, as Java's Character.isLetterOrDigit does.
bool IsUnicodeLetterOrDigit(char32_t cp) {
  static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  if (utf8 == static_cast<locale_t>(nullptr)) {
    return cp < 0x80 &&
           ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
  }
  return iswalnum_l(static_cast<wint_t>(cp), utf8) != 0;
}

}  // namespace

std::size_t Utf16Length(std::string_view s) {
  std::size_t units = 0;
  char32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = DecodeUtf8(s, i, cp);
    i += n == 0 ? 1 : n;
    units += cp > 0xffff ? 2 : 1;
  }
  return units;
}

bool IsUidChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '=' || c == '+' || c == '@';
}

namespace {
bool UidOfLength(std::string_view uid, std::size_t min) {
  if (uid.size() < min || uid.size() > kMaxUidLength) {
    return false;
  }
  for (char c : uid) {
    if (!IsUidChar(c)) {
      return false;
    }
  }
  return true;
}
}  // namespace

bool IsValidUid(std::string_view uid) { return UidOfLength(uid, kMinUidLength); }

bool IsValidIdentityUid(std::string_view uid) { return UidOfLength(uid, 1); }

bool IsValidUsername(std::string_view username) {
  if (!IsValidUtf8(username)) {
    return false;
  }
  std::size_t len = Utf16Length(username);
  if (len < kUsernameRule.min || len > kUsernameRule.max) {
    return false;
  }
  char32_t cp = 0;
  for (std::size_t i = 0; i < username.size();) {
    i += DecodeUtf8(username, i, cp);
    if (!(cp == '_' || cp == '.' || cp == '@' || IsUnicodeLetterOrDigit(cp))) {
      return false;
    }
  }
  return true;
}

bool IsValidPassword(std::string_view password) {
  if (!IsValidUtf8(password)) {
    return false;
  }
  std::size_t len = Utf16Length(password);
  return len >= kLegacyPasswordRule.min && len <= kLegacyPasswordRule.max;
}

bool IsValidV2Password(std::string_view password) {
  return password.size() >= kV2PasswordRule.min && password.size() <= kV2PasswordRule.max &&
         IsValidUtf8(password);
}

}  // namespace vendo::protocol
