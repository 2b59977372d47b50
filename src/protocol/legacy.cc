#include "protocol/legacy.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

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
  return crypto::ConstantTimeEquals(Sign(mode, key_text, timestamp), signature);
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
  return fmt::format(
      "{{\taccessKey: \"{}\",\tsecretKey: \"{}\",\tsecurityToken: \"{}\",\texpirationDate: "
      "\"{}\"}}",
      creds.access_key_id, creds.secret_access_key, creds.session_token, ms);
}

std::string KeyPlaintext(std::string_view device_key) {
  return fmt::format("{{\tkey: \"{}\"}}", device_key);
}

bool IsUsableAesKey(std::string_view key_hex) {
  return (key_hex.size() == 32 || key_hex.size() == 48 || key_hex.size() == 64) && IsHex(key_hex);
}

Result<std::string> Wrap(std::string_view plaintext, std::string_view key_hex,
                         std::span<const std::uint8_t> iv) {
  if (!IsUsableAesKey(key_hex)) {
    return Fail(ErrorCode::kInternal, "key is not a usable AES key");
  }
  Bytes key = *HexDecode(key_hex);
  auto ct = crypto::AesCbcEncrypt(key, iv, AsBytes(plaintext));
  OPENSSL_cleanse(key.data(), key.size());
  if (!ct) {
    return std::unexpected(ct.error());
  }
  Bytes out(iv.begin(), iv.end());
  out.insert(out.end(), ct->begin(), ct->end());
  return Base64Encode(out);
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
