#include "protocol/validate.h"

#include <locale.h>
#include <wctype.h>

#include <cstdint>

namespace vendo::protocol {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if it is malformed (overlong,
// surrogate, beyond U+10FFFF, truncated).
std::size_t DecodeUtf8(std::string_view s, std::size_t i, char32_t& cp) {
  auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  std::uint8_t c = b(i);
  std::size_t len = 0;
  char32_t min = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2, cp = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, cp = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return len;
}

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

bool IsValidUtf8(std::string_view s) {
  char32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = DecodeUtf8(s, i, cp);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

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

bool IsValidUid(std::string_view uid) {
  if (uid.size() < kMinUidLength || uid.size() > kMaxUidLength) {
    return false;
  }
  for (char c : uid) {
    if (c <= 0x20 || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

bool IsValidUsername(std::string_view username) {
  if (!IsValidUtf8(username)) {
    return false;
  }
  std::size_t len = Utf16Length(username);
  if (len < 3 || len > 128) {
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
  return len >= 6 && len <= 128;
}

}  // namespace vendo::protocol
