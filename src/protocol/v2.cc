#include "protocol/v2.h"

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

#include "crypto/aes.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"

namespace vendo::protocol::v2 {
namespace {

Result<Bytes> SealingKey(std::span<const std::uint8_t> secret, std::string_view device_id,
                         std::string_view nonce) {
  auto salt = Base64UrlDecode(nonce);
  if (!salt || salt->size() != kNonceBytes) {
    return Fail(ErrorCode::kInvalidArgument, "the nonce must be 16 bytes of base64url");
  }
  std::string info = "vendo-v2-seal\n" + std::string(device_id);
  return crypto::HkdfSha256(secret, *salt, AsBytes(info), 32);
}

std::string Aad(std::string_view device_id, std::string_view nonce) {
  std::string aad(device_id);
  aad.append("\n").append(nonce);
  return aad;
}

}  // namespace

std::string Base64UrlEncode(std::span<const std::uint8_t> bytes) {
  std::string s = Base64Encode(bytes);
  while (!s.empty() && s.back() == '=') {
    s.pop_back();
  }
  for (char& c : s) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return s;
}

Result<Bytes> Base64UrlDecode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '+' || c == '/' || c == '=') {
      return Fail(ErrorCode::kInvalidArgument, "not base64url");
    }
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  s.append((4 - s.size() % 4) % 4, '=');
  return Base64Decode(s);
}

std::string CanonicalRequest(std::string_view method, std::string_view path, std::string_view body,
                             std::string_view timestamp, std::string_view nonce,
                             std::string_view device_id) {
  std::string body_hash = HexEncode(crypto::Sha256(AsBytes(body)));
  std::string out(kScheme);
  for (std::string_view part :
       {method, path, std::string_view(body_hash), timestamp, nonce, device_id}) {
    out.append("\n").append(part);
  }
  return out;
}

std::string Signature(std::span<const std::uint8_t> device_secret, std::string_view canonical) {
  return HexEncode(crypto::HmacSha256(device_secret, AsBytes(canonical)));
}

Result<Authorization> ParseAuthorization(std::string_view header) {
  // Strict: the four fields in the order the spec gives, each once, each from its own small
  // alphabet. One way to write a header means one way to read it.
  auto bad = [] { return Fail(ErrorCode::kUnauthenticated, "malformed Authorization header"); };
  if (!header.starts_with(kScheme) || header.size() <= kScheme.size() ||
      header[kScheme.size()] != ' ') {
    return bad();
  }
  header.remove_prefix(kScheme.size() + 1);
  auto word = [](std::string_view v) {
    return std::all_of(v.begin(), v.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-' || c == ':';
    });
  };
  Authorization a;
  const std::pair<std::string_view, std::string*> fields[] = {{"Device=", &a.device_id},
                                                              {"Timestamp=", &a.timestamp},
                                                              {"Nonce=", &a.nonce},
                                                              {"Signature=", &a.signature}};
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    auto [name, field] = fields[i];
    if (!header.starts_with(name)) {
      return bad();
    }
    header.remove_prefix(name.size());
    auto end = i + 1 < std::size(fields) ? header.find(',') : header.size();
    if (end == std::string_view::npos || end == 0 || !word(header.substr(0, end))) {
      return bad();
    }
    *field = std::string(header.substr(0, end));
    header.remove_prefix(std::min(end + 1, header.size()));
    if (i + 1 == std::size(fields) && end != field->size()) {
      return bad();
    }
  }
  return a;
}

std::string FormatAuthorization(const Authorization& a) {
  return std::string(kScheme) + " Device=" + a.device_id + ",Timestamp=" + a.timestamp +
         ",Nonce=" + a.nonce + ",Signature=" + a.signature;
}

Result<bool> ParseTokenBody(std::string_view body) {
  if (body.empty()) {
    return false;
  }
  boost::system::error_code ec;
  auto doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  }
  const auto* seal = doc.as_object().if_contains("seal");
  if (seal == nullptr) {
    return false;
  }
  if (!seal->is_bool()) {
    return Fail(ErrorCode::kInvalidArgument, "seal must be true or false");
  }
  return seal->as_bool();
}

Result<std::string> Seal(std::span<const std::uint8_t> device_secret, std::string_view device_id,
                         std::string_view nonce, std::span<const std::uint8_t> iv,
                         std::string_view plaintext) {
  auto key = SealingKey(device_secret, device_id, nonce);
  if (!key) {
    return std::unexpected(key.error());
  }
  auto sealed = crypto::AesGcmSeal(*key, iv, AsBytes(Aad(device_id, nonce)), AsBytes(plaintext));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  Bytes out(iv.begin(), iv.end());
  out.insert(out.end(), sealed->begin(), sealed->end());
  return Base64UrlEncode(out);
}

Result<std::string> Unseal(std::span<const std::uint8_t> device_secret, std::string_view device_id,
                           std::string_view nonce, std::string_view sealed) {
  auto key = SealingKey(device_secret, device_id, nonce);
  if (!key) {
    return std::unexpected(key.error());
  }
  auto bytes = Base64UrlDecode(sealed);
  if (!bytes || bytes->size() < 12 + 16) {
    return Fail(ErrorCode::kInvalidArgument, "sealed value too short");
  }
  std::span<const std::uint8_t> all(*bytes);
  auto opened =
      crypto::AesGcmOpen(*key, all.first(12), AsBytes(Aad(device_id, nonce)), all.subspan(12));
  if (!opened) {
    return std::unexpected(opened.error());
  }
  return std::string(opened->begin(), opened->end());
}

}  // namespace vendo::protocol::v2
