#include "common/encoding.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>

namespace vendo {

bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  return AppendPercentDecoded(in, out, plus_is_space);
}

bool AppendPercentDecoded(std::string_view in, std::string& out, bool plus_is_space) {
  out.reserve(out.size() + in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    std::size_t run = i;  // copy plain characters in one go
    while (run < in.size() && in[run] != '%' && !(plus_is_space && in[run] == '+')) {
      ++run;
    }
    out.append(in.data() + i, run - i);
    if (run == in.size()) {
      break;
    }
    i = run;
    if (in[i] == '+') {
      out.push_back(' ');
      continue;
    }
    int hi = i + 2 < in.size() ? HexDigitValue(in[i + 1]) : -1;
    int lo = hi >= 0 ? HexDigitValue(in[i + 2]) : -1;
    if (lo < 0) {
      return false;
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  return true;
}

Status AppendQueryPairs(std::string_view query, bool plus_is_space, std::size_t max_pairs,
                        std::vector<std::pair<std::string, std::string>>& out) {
  std::size_t room = max_pairs > out.size() ? max_pairs - out.size() : 0;
  return VisitQueryPairs(query, room, [&](std::string_view key, std::string_view value) {
    auto& [k, v] = out.emplace_back();
    return PercentDecode(key, k, plus_is_space) && PercentDecode(value, v, plus_is_space);
  });
}

Result<std::vector<std::pair<std::string, std::string>>> DecodeQueryPairs(std::string_view query,
                                                                          bool plus_is_space,
                                                                          std::size_t max_pairs) {
  std::vector<std::pair<std::string, std::string>> pairs;
  VENDO_RETURN_IF_ERROR(AppendQueryPairs(query, plus_is_space, max_pairs, pairs));
  return pairs;
}

bool ReadDigits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) {
    return false;
  }
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

std::string HexEncode(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
  return out;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (HexDigitValue(c) < 0) {
      return false;
    }
  }
  return true;
}

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Fail(ErrorCode::kInvalidArgument, "hex string has odd length");
  }
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = HexDigitValue(hex[2 * i]);
    int lo = HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Fail(ErrorCode::kInvalidArgument, "not a hex string");
    }
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

std::string Base64Encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  AppendBase64(out, bytes);
  return out;
}

void AppendBase64(std::string& out, std::span<const std::uint8_t> bytes) {
  std::size_t at = out.size();
  out.resize(at + Base64Size(bytes.size()));
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at), bytes.data(),
                          static_cast<int>(bytes.size()));
  out.resize(at + static_cast<std::size_t>(n));
}

namespace {

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<Bytes> Base64Decode(std::string_view b64) {
  if (b64.size() % 4 != 0) {
    return Fail(ErrorCode::kInvalidArgument, "base64 length is not a multiple of 4");
  }
  // RFC 4648 strictly: padding only as the last one or two characters of the last group, and
  // the bits that padding leaves over all zero, so that every byte string has one encoding.
  std::size_t pad = 0;
  if (!b64.empty() && b64.back() == '=') {
    pad = b64[b64.size() - 2] == '=' ? 2 : 1;
  }
  std::string_view data = b64.substr(0, b64.size() - pad);
  for (char c : data) {
    if (Base64Value(c) < 0) {
      return Fail(ErrorCode::kInvalidArgument, "not a base64 string");
    }
  }
  if (pad > 0) {
    int last = Base64Value(data.back());
    if ((pad == 1 && (last & 0x03) != 0) || (pad == 2 && (last & 0x0f) != 0)) {
      return Fail(ErrorCode::kInvalidArgument, "not a base64 string (non-zero padding bits)");
    }
  }
  Bytes out(3 * b64.size() / 4);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) {
    return Fail(ErrorCode::kInvalidArgument, "not a base64 string");
  }
  out.resize(static_cast<std::size_t>(n) - pad);  // EVP_DecodeBlock keeps what padding stands for
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

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

}  // namespace vendo
