#include "oidc/jwk_set.h"

#include <cjose/cjose.h>
#include <openssl/evp.h>

#include <array>
#include <boost/json.hpp>

#include "protocol/v2.h"

namespace vendo::oidc {
namespace {

struct NamedAlgorithm {
  std::string_view name;
  Algorithm alg;
};
constexpr std::array<NamedAlgorithm, 10> kAlgorithms = {{
    {"RS256", Algorithm::kRS256},
    {"RS384", Algorithm::kRS384},
    {"RS512", Algorithm::kRS512},
    {"PS256", Algorithm::kPS256},
    {"PS384", Algorithm::kPS384},
    {"PS512", Algorithm::kPS512},
    {"ES256", Algorithm::kES256},
    {"ES384", Algorithm::kES384},
    {"ES512", Algorithm::kES512},
    {"EdDSA", Algorithm::kEdDSA},
}};

std::string StringField(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::optional<Algorithm> AlgorithmNamed(std::string_view name) {
  for (const auto& a : kAlgorithms) {
    if (a.name == name) {
      return a.alg;
    }
  }
  return std::nullopt;
}

std::string_view AlgorithmName(Algorithm alg) {
  for (const auto& a : kAlgorithms) {
    if (a.alg == alg) {
      return a.name;
    }
  }
  return "?";
}

struct JwkSet::Key {
  std::string kid;
  std::string kty;  // RSA, EC or OKP
  std::string crv;  // EC and OKP
  std::string alg;  // the key's own "alg", when it names one
  cjose_jwk_t* cjose = nullptr;
  EVP_PKEY* ed25519 = nullptr;

  Key() = default;
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  ~Key() {
    if (cjose != nullptr) {
      cjose_jwk_release(cjose);
    }
    EVP_PKEY_free(ed25519);
  }
};

Result<JwkSet> JwkSet::Parse(std::string_view json) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(json, ec);
  const boost::json::array* list = nullptr;
  if (!ec && doc.is_object()) {
    if (const auto* keys = doc.get_object().if_contains("keys")) {
      list = keys->if_array();
    }
  }
  if (list == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "not a JWKS document ({\"keys\": [...]})");
  }
  JwkSet set;
  for (const auto& entry : *list) {
    if (!entry.is_object()) {
      continue;
    }
    const auto& o = entry.get_object();
    auto key = std::make_shared<Key>();
    key->kid = StringField(o, "kid");
    key->kty = StringField(o, "kty");
    key->crv = StringField(o, "crv");
    key->alg = StringField(o, "alg");
    if (std::string use = StringField(o, "use"); !use.empty() && use != "sig") {
      continue;  // an encryption key
    }
    if (key->kty == "RSA" || key->kty == "EC") {
      std::string one = boost::json::serialize(o);
      cjose_err err{};
      key->cjose = cjose_jwk_import(one.data(), one.size(), &err);
      if (key->cjose == nullptr) {
        continue;  // malformed: a token naming it finds no key
      }
    } else if (key->kty == "OKP" && key->crv == "Ed25519") {
      auto x = protocol::v2::Base64UrlDecode(StringField(o, "x"));
      if (!x || x->size() != 32) {
        continue;
      }
      key->ed25519 = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, x->data(), x->size());
      if (key->ed25519 == nullptr) {
        continue;
      }
    } else {
      continue;  // symmetric ("oct") or unknown: never a signing key here
    }
    set.keys_.push_back(std::move(key));
  }
  if (set.keys_.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "the JWKS document holds no usable signing key");
  }
  return set;
}

const JwkSet::Key* JwkSet::Find(std::string_view kid) const {
  if (kid.empty()) {
    return keys_.size() == 1 ? keys_[0].get() : nullptr;
  }
  for (const auto& key : keys_) {
    if (key->kid == kid) {
      return key.get();
    }
  }
  return nullptr;
}

bool JwkSet::Fits(const Key& key, Algorithm alg) {
  if (!key.alg.empty() && key.alg != AlgorithmName(alg)) {
    return false;
  }
  switch (alg) {
    case Algorithm::kRS256:
    case Algorithm::kRS384:
    case Algorithm::kRS512:
    case Algorithm::kPS256:
    case Algorithm::kPS384:
    case Algorithm::kPS512:
      return key.kty == "RSA";
    case Algorithm::kES256:
      return key.kty == "EC" && key.crv == "P-256";
    case Algorithm::kES384:
      return key.kty == "EC" && key.crv == "P-384";
    case Algorithm::kES512:
      return key.kty == "EC" && key.crv == "P-521";
    case Algorithm::kEdDSA:
      return key.ed25519 != nullptr;
  }
  return false;
}

bool JwkSet::SignatureHolds(const Key& key, Algorithm alg, std::string_view token) {
  if (!Fits(key, alg)) {
    return false;
  }
  if (alg == Algorithm::kEdDSA) {
    auto dot = token.rfind('.');
    if (dot == std::string_view::npos) {
      return false;
    }
    auto signature = protocol::v2::Base64UrlDecode(token.substr(dot + 1));
    if (!signature) {
      return false;
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr &&
              EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key.ed25519) == 1 &&
              EVP_DigestVerify(ctx, signature->data(), signature->size(),
                               reinterpret_cast<const unsigned char*>(token.data()), dot) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
  }
  cjose_err err{};
  cjose_jws_t* jws = cjose_jws_import(token.data(), token.size(), &err);
  if (jws == nullptr) {
    return false;
  }
  bool ok = cjose_jws_verify(jws, key.cjose, &err);
  cjose_jws_release(jws);
  return ok;
}

}  // namespace vendo::oidc
