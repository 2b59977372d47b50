// JwtSigner: a test's own OpenID provider key (RSA, P-256 or Ed25519, made fresh with
// OpenSSL), its public JWK, and compact JWS tokens signed with it by OpenSSL alone: a signer
// independent of the JOSE library the server checks with. Any header can be signed, so a test
// can also make the tokens an attacker would ("alg": "none", HS256 keyed with the public key).
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/v2.h"

namespace vendo::testing {

class JwtSigner {
 public:
  enum class Type { kRsa, kEc, kEd25519 };

  JwtSigner(Type type, std::string kid) : type_(type), kid_(std::move(kid)) {
    switch (type) {
      case Type::kRsa:
        key_ = EVP_RSA_gen(2048);
        break;
      case Type::kEc:
        key_ = EVP_EC_gen("P-256");
        break;
      case Type::kEd25519:
        key_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        break;
    }
    if (key_ == nullptr) {
      throw std::runtime_error("key generation failed");
    }
  }
  ~JwtSigner() { EVP_PKEY_free(key_); }
  JwtSigner(const JwtSigner&) = delete;
  JwtSigner& operator=(const JwtSigner&) = delete;

  const std::string& kid() const { return kid_; }
  // The algorithm this key signs with by default.
  std::string_view alg() const {
    return type_ == Type::kRsa ? "RS256" : type_ == Type::kEc ? "ES256" : "EdDSA";
  }

  // The public key as a JWK object (JSON text).
  std::string PublicJwk() const {
    std::string kid = "\"kid\":\"" + kid_ + "\"";
    switch (type_) {
      case Type::kRsa:
        return "{\"kty\":\"RSA\"," + kid + ",\"use\":\"sig\",\"n\":\"" + Bn(OSSL_PKEY_PARAM_RSA_N) +
               "\",\"e\":\"" + Bn(OSSL_PKEY_PARAM_RSA_E) + "\"}";
      case Type::kEc:
        return "{\"kty\":\"EC\"," + kid + ",\"crv\":\"P-256\",\"x\":\"" +
               Bn(OSSL_PKEY_PARAM_EC_PUB_X, 32) + "\",\"y\":\"" + Bn(OSSL_PKEY_PARAM_EC_PUB_Y, 32) +
               "\"}";
      case Type::kEd25519: {
        unsigned char raw[32];
        std::size_t len = sizeof raw;
        EVP_PKEY_get_raw_public_key(key_, raw, &len);
        return "{\"kty\":\"OKP\"," + kid + ",\"crv\":\"Ed25519\",\"x\":\"" +
               protocol::v2::Base64UrlEncode({raw, len}) + "\"}";
      }
    }
    return "{}";
  }

  // header.payload.signature for these header and claims (JSON objects as text), signed as
  // `alg` says: RS256, PS256, ES256 or EdDSA with this key; "none" unsigned; HS256 keyed
  // with this key's public JWK text (the algorithm-confusion attack).
  std::string Sign(std::string_view header, std::string_view claims, std::string_view alg) const {
    std::string input = B64(header) + "." + B64(claims);
    if (alg == "none") {
      return input + ".";
    }
    if (alg == "HS256") {
      std::string secret = PublicJwk();
      unsigned char mac[32];
      unsigned int len = sizeof mac;
      HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
      return input + "." + protocol::v2::Base64UrlEncode({mac, len});
    }
    return input + "." + protocol::v2::Base64UrlEncode(Signature(input, alg));
  }

  // A token with the usual header ({"alg", "kid", "typ"}) and `claims`.
  std::string Token(std::string_view claims) const { return Sign(Header(alg()), claims, alg()); }
  std::string Header(std::string_view alg) const {
    return "{\"alg\":\"" + std::string(alg) + "\",\"kid\":\"" + kid_ + "\",\"typ\":\"JWT\"}";
  }

 private:
  static std::string B64(std::string_view s) {
    return protocol::v2::Base64UrlEncode(
        {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
  }
  // A big-number parameter of the key, big-endian, left-padded to `width` bytes (0: as is).
  std::string Bn(const char* name, std::size_t width = 0) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_, name, &bn);
    std::vector<std::uint8_t> bytes(std::max<std::size_t>(width, BN_num_bytes(bn)));
    BN_bn2binpad(bn, bytes.data(), static_cast<int>(bytes.size()));
    BN_free(bn);
    return protocol::v2::Base64UrlEncode(bytes);
  }
  std::vector<std::uint8_t> Signature(const std::string& input, std::string_view alg) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    const EVP_MD* md = type_ == Type::kEd25519 ? nullptr : EVP_sha256();
    EVP_DigestSignInit(ctx, &pctx, md, nullptr, key_);
    if (alg == "PS256") {
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
    }
    std::size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::vector<std::uint8_t> sig(len);
    EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (type_ != Type::kEc) {
      return sig;
    }
    // ECDSA: DER (r, s) to JWS's fixed-width r || s.
    const unsigned char* p = sig.data();
    ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::vector<std::uint8_t> raw(64);
    BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), raw.data(), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), raw.data() + 32, 32);
    ECDSA_SIG_free(ecdsa);
    return raw;
  }

  Type type_;
  std::string kid_;
  EVP_PKEY* key_ = nullptr;
};

}  // namespace vendo::testing
