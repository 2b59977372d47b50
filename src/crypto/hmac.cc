#include "crypto/hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

#include "common/encoding.h"

namespace vendo::crypto {
namespace {

EVP_MD* Sha256Algorithm() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// One HMAC-SHA256 context per thread, digest set once. Setting the digest by name costs a
// provider lookup under a lock, and allocating a context per call showed up in the
// /gettoken profile; re-initialising with a new key does neither.
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

EVP_MAC_CTX* ThreadHmacContext() {
  thread_local std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* c = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    EVP_MAC_free(mac);
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    if (c == nullptr || EVP_MAC_CTX_set_params(c, params) != 1) {
      std::abort();
    }
    return std::unique_ptr<EVP_MAC_CTX, MacCtxFree>(c);
  }();
  return ctx.get();
}

}  // namespace

Digest HmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message) {
  Digest out{};
  EVP_MAC_CTX* ctx = ThreadHmacContext();
  // HMAC accepts a zero-length key; OpenSSL wants a non-null pointer for it.
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* key_ptr = key.empty() ? &kEmpty : key.data();
  std::size_t len = 0;
  bool ok = EVP_MAC_init(ctx, key_ptr, key.size(), nullptr) == 1 &&
            EVP_MAC_update(ctx, message.data(), message.size()) == 1 &&
            EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == out.size();
  if (!ok) {
    std::abort();  // only fails on allocation failure or a broken OpenSSL install
  }
  return out;
}

Digest HmacSha256(std::string_view key, std::string_view message) {
  return HmacSha256(AsBytes(key), AsBytes(message));
}

Digest Sha256(std::span<const std::uint8_t> data) {
  Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, Sha256Algorithm(), nullptr) != 1) {
    std::abort();
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vendo::crypto
