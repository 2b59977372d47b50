// JwkSet: an OpenID provider's signing keys (a JWKS document, RFC 7517), each ready to check
// a JWS signature with.
//
// RSA and EC keys are imported and used by cjose (the JOSE library of Apache's
// mod_auth_openidc); Ed25519 keys ("kty": "OKP"), which no JOSE library in Debian 12 knows,
// by OpenSSL directly (docs/decisions.md 25). Keys for encryption ("use": "enc"), symmetric
// keys and keys of any other type are left out: a token can never be checked with them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vendo/result.h"

namespace vendo::oidc {

// The JWS algorithms vendo checks ID tokens with. "none" and the HMAC algorithms (HS256 and
// the like) are not among them, whatever a configuration asks: an HMAC "signature" made with
// a provider's public key would verify as one.
enum class Algorithm {
  kRS256,
  kRS384,
  kRS512,
  kPS256,
  kPS384,
  kPS512,
  kES256,
  kES384,
  kES512,
  kEdDSA
};

// The algorithm a JWS header names, or nullopt for one vendo never accepts.
std::optional<Algorithm> AlgorithmNamed(std::string_view name);
std::string_view AlgorithmName(Algorithm alg);

class JwkSet {
 public:
  struct Key;  // a key as imported (opaque: cjose's or OpenSSL's)

  // Parses a JWKS document ({"keys": [...]}). Fails (kInvalidArgument) when it is not one, or
  // when it holds no key that can check a signature.
  [[nodiscard]] static Result<JwkSet> Parse(std::string_view json);

  // The key with this "kid"; with an empty `kid` the only signing key, if there is one.
  const Key* Find(std::string_view kid) const;
  std::size_t size() const { return keys_.size(); }

  // True when `key` can check `alg` at all: RSA for RS* and PS*, EC on the matching curve
  // for ES*, Ed25519 for EdDSA, and the key's own "alg" (when it names one) equal to `alg`.
  static bool Fits(const Key& key, Algorithm alg);
  // Checks the signature of the compact JWS `token` (header.payload.signature) with `key`,
  // under `alg`, which the caller has read from the header and allowed.
  static bool SignatureHolds(const Key& key, Algorithm alg, std::string_view token);

 private:
  std::vector<std::shared_ptr<const Key>> keys_;
};

}  // namespace vendo::oidc
