#include "protocol/legacy.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "common/encoding.h"
#include "crypto/aes.h"
#include "crypto/hmac.h"

namespace vendo::protocol::legacy {

std::string Sign(Mode mode, std::string_view key_text, std::string_view timestamp) {
  crypto::Digest mac = crypto::HmacSha256(key_text, timestamp);
  return mode == Mode::kAnonymous ? Base64Encode(mac) : HexEncode(mac);
}

bool VerifySignature(Mode mode, std::string_view key_text, std::string_view timestamp,
                     std::string_view signature) {
  if (mode == Mode::kIdentity) {
    return crypto::ConstantTimeEquals(Sign(mode, key_text, timestamp), signature);
  }
  // Anonymous: base64 into a buffer on the stack (this runs on every /gettoken).
  crypto::Digest mac = crypto::HmacSha256(key_text, timestamp);
  std::array<unsigned char, 4 * ((sizeof mac + 2) / 3) + 1> text{};
  int n = EVP_EncodeBlock(text.data(), mac.data(), static_cast<int>(mac.size()));
  bool equal = crypto::ConstantTimeEquals(
      std::string_view(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(n)),
      signature);
  OPENSSL_cleanse(mac.data(), mac.size());
  return equal;
}

std::string NormalizeEndpoint(std::string_view url) {
  std::string s = AsciiLower(url);
  for (std::string_view scheme : {"http://", "https://"}) {
    if (s.starts_with(scheme)) {
      s.erase(0, scheme.size());
      break;
    }
  }
  if (s.ends_with('/')) {
    s.pop_back();
  }
  return s;
}

std::string SaltedPasswordHash(std::string_view password, std::string_view username,
                               std::string_view app_name, std::string_view endpoint) {
  std::string message;
  message.reserve(username.size() + app_name.size() + endpoint.size());
  message.append(username).append(AsciiLower(app_name)).append(endpoint);
  return HexEncode(crypto::HmacSha256(password, message));
}

std::string TokenPlaintext(const Credentials& creds) {
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(creds.expiration.time_since_epoch())
          .count();
  char digits[24];
  auto digits_end = std::to_chars(digits, digits + sizeof digits, ms).ptr;
  std::string out;
  out.reserve(96 + creds.access_key_id.size() + creds.secret_access_key.size() +
              creds.session_token.size());
  out.append("{\taccessKey: \"")
      .append(creds.access_key_id)
      .append("\",\tsecretKey: \"")
      .append(creds.secret_access_key)
      .append("\",\tsecurityToken: \"")
      .append(creds.session_token)
      .append("\",\texpirationDate: \"")
      .append(digits, digits_end)
      .append("\"}");
  return out;
}

std::string KeyPlaintext(std::string_view device_key) {
  return fmt::format("{{\tkey: \"{}\"}}", device_key);
}

bool IsUsableAesKey(std::string_view key_hex) {
  return (key_hex.size() == 32 || key_hex.size() == 48 || key_hex.size() == 64) && IsHex(key_hex);
}

Result<std::string> Wrap(std::string_view plaintext, std::string_view key_hex,
                         std::span<const std::uint8_t> iv) {
  if (!IsUsableAesKey(key_hex) || iv.size() != crypto::kAesBlock) {
    return Fail(ErrorCode::kInternal, "key is not a usable AES key");
  }
  std::array<std::uint8_t, 32> key{};
  std::size_t key_len = key_hex.size() / 2;
  for (std::size_t i = 0; i < key_len; ++i) {  // IsUsableAesKey checked the digits
    key[i] = static_cast<std::uint8_t>((HexDigitValue(key_hex[2 * i]) << 4) |
                                       HexDigitValue(key_hex[2 * i + 1]));
  }
  // IV || ciphertext in one buffer (this thread's, reused: it only ever holds ciphertext),
  // then base64 of the whole, with room for the CRLF that the answer ends with.
  thread_local Bytes raw;
  raw.resize(crypto::kAesBlock + plaintext.size() + crypto::kAesBlock);
  std::copy(iv.begin(), iv.end(), raw.begin());
  auto n = crypto::AesCbcEncryptTo(std::span(key).first(key_len), iv, AsBytes(plaintext),
                                   std::span(raw).subspan(crypto::kAesBlock));
  OPENSSL_cleanse(key.data(), key.size());
  if (!n) {
    return std::unexpected(n.error());
  }
  raw.resize(crypto::kAesBlock + *n);
  std::string out;
  out.reserve(Base64Size(raw.size()) + 2);
  AppendBase64(out, raw);
  return out;
}

Result<std::string> Unwrap(std::string_view body, std::string_view key_hex) {
  while (body.ends_with('\n') || body.ends_with('\r')) {
    body.remove_suffix(1);
  }
  auto raw = Base64Decode(body);
  if (!raw) {
    return std::unexpected(raw.error());
  }
  if (raw->size() < 2 * crypto::kAesBlock || !IsUsableAesKey(key_hex)) {
    return Fail(ErrorCode::kInvalidArgument, "wrapped body too short or key unusable");
  }
  std::span<const std::uint8_t> all(*raw);
  auto pt = crypto::AesCbcDecrypt(*HexDecode(key_hex), all.first(crypto::kAesBlock),
                                  all.subspan(crypto::kAesBlock));
  if (!pt) {
    return std::unexpected(pt.error());
  }
  return std::string(AsChars(*pt));
}

}  // namespace vendo::protocol::legacy
