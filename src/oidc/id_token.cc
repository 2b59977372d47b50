#include "oidc/id_token.h"

#include <algorithm>
#include <boost/json.hpp>

#include "common/sorted_pairs.h"
#include "protocol/v2.h"

namespace vendo::oidc {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

std::unexpected<TokenFailure> Refuse(TokenReason reason, std::string detail) {
  return std::unexpected(TokenFailure{reason, std::move(detail)});
}

// The three base64url parts of a compact JWS.
struct Parts {
  std::string_view header, payload, signature;
};

TokenResult<Parts> Split(std::string_view token, const ProviderRules& rules) {
  if (token.size() > rules.max_token_bytes) {
    return Refuse(TokenReason::kTooLarge, "the token is " + std::to_string(token.size()) +
                                              " bytes; at most " +
                                              std::to_string(rules.max_token_bytes));
  }
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Refuse(TokenReason::kMalformed, "not three dot-separated parts (a JWE is not taken)");
  }
  return Parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
               token.substr(second + 1)};
}

TokenResult<boost::json::object> DecodeObject(std::string_view part, std::string_view what) {
  auto bytes = protocol::v2::Base64UrlDecode(part);
  if (!bytes) {
    return Refuse(TokenReason::kMalformed, std::string(what) + " is not base64url");
  }
  boost::system::error_code ec;
  auto doc = boost::json::parse(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), ec);
  if (ec || !doc.is_object()) {
    return Refuse(TokenReason::kMalformed, std::string(what) + " is not a JSON object");
  }
  return std::move(doc.get_object());
}

// A claim's value as text, for the templates and the required-claims rules: strings as they
// are, booleans as "true" or "false", integers in decimal; nullopt for anything else.
std::optional<std::string> AsText(const boost::json::value& v) {
  if (v.is_string()) {
    return std::string(v.get_string());
  }
  if (v.is_bool()) {
    return v.get_bool() ? "true" : "false";
  }
  if (v.is_int64()) {
    return std::to_string(v.get_int64());
  }
  if (v.is_uint64()) {
    return std::to_string(v.get_uint64());
  }
  return std::nullopt;
}

// An array of strings (none other), its first kMaxListItems items; nullopt for anything else.
std::optional<std::vector<std::string>> AsTextList(const boost::json::value& v) {
  if (!v.is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : v.get_array()) {
    if (!item.is_string()) {
      return std::nullopt;
    }
    if (out.size() < kMaxListItems) {
      out.emplace_back(item.get_string());
    }
  }
  return out;
}

// A NumericDate claim (seconds since the epoch); nullopt when absent or not a number.
std::optional<system_clock::time_point> Date(const boost::json::object& claims,
                                             std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr) {
    return std::nullopt;
  }
  std::int64_t secs = 0;
  if (v->is_int64()) {
    secs = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() < (1ULL << 40)) {
    secs = static_cast<std::int64_t>(v->get_uint64());
  } else if (v->is_double() && v->get_double() > 0 && v->get_double() < 1e12) {
    secs = static_cast<std::int64_t>(v->get_double());
  } else {
    return std::nullopt;
  }
  return system_clock::time_point(seconds(secs));
}

TokenResult<std::monostate> CheckAudience(const boost::json::object& claims,
                                          const ProviderRules& rules) {
  std::vector<std::string_view> aud;
  if (const auto* v = claims.if_contains("aud")) {
    if (v->is_string()) {
      aud.push_back(v->get_string());
    } else if (v->is_array()) {
      for (const auto& a : v->get_array()) {
        if (a.is_string()) {
          aud.push_back(a.get_string());
        }
      }
    }
  }
  auto ours = [&](std::string_view a) {
    return std::find(rules.audiences.begin(), rules.audiences.end(), a) != rules.audiences.end();
  };
  if (std::none_of(aud.begin(), aud.end(), ours)) {
    return Refuse(TokenReason::kWrongAudience, "no audience of the token is this app's");
  }
  const auto* azp = claims.if_contains("azp");
  if (aud.size() > 1 && azp == nullptr) {
    return Refuse(TokenReason::kWrongAudience, "several audiences and no azp");
  }
  if (azp != nullptr && (!azp->is_string() || !ours(azp->get_string()))) {
    return Refuse(TokenReason::kWrongAudience, "azp is not one of this app's audiences");
  }
  return std::monostate{};
}

TokenResult<std::monostate> CheckTimes(const boost::json::object& claims,
                                       const ProviderRules& rules, system_clock::time_point now) {
  auto exp = Date(claims, "exp");
  auto iat = Date(claims, "iat");
  if (!exp || !iat) {
    return Refuse(TokenReason::kMalformed, "exp and iat must be numbers");
  }
  if (now > *exp + rules.leeway) {
    return Refuse(TokenReason::kExpired, "the token has expired");
  }
  auto nbf = Date(claims, "nbf");
  if ((nbf && now + rules.leeway < *nbf) || now + rules.leeway < *iat) {
    return Refuse(TokenReason::kNotYetValid, "the token is not valid yet");
  }
  if (rules.max_token_age.count() > 0 && now - *iat > rules.max_token_age + rules.leeway) {
    return Refuse(TokenReason::kTooOld, "the token was issued too long ago");
  }
  return std::monostate{};
}

}  // namespace

std::string_view TokenReasonName(TokenReason reason) {
  switch (reason) {
    case TokenReason::kMalformed:
      return "malformed";
    case TokenReason::kTooLarge:
      return "too_large";
    case TokenReason::kAlgorithmNotAllowed:
      return "algorithm_not_allowed";
    case TokenReason::kUnknownKey:
      return "unknown_key";
    case TokenReason::kBadSignature:
      return "bad_signature";
    case TokenReason::kWrongIssuer:
      return "wrong_issuer";
    case TokenReason::kWrongAudience:
      return "wrong_audience";
    case TokenReason::kExpired:
      return "expired";
    case TokenReason::kNotYetValid:
      return "not_yet_valid";
    case TokenReason::kTooOld:
      return "too_old";
    case TokenReason::kNonceMismatch:
      return "nonce_mismatch";
    case TokenReason::kMissingClaim:
      return "missing_claim";
    case TokenReason::kEmailNotVerified:
      return "email_not_verified";
    case TokenReason::kProviderUnavailable:
      return "provider_unavailable";
  }
  return "invalid_token";
}

std::optional<std::string_view> VerifiedToken::Claim(std::string_view name) const {
  const std::string* value = FindSorted(claims, name);
  if (value == nullptr) {
    return std::nullopt;
  }
  return *value;
}

std::string UnverifiedIssuer(std::string_view token) {
  ProviderRules any_size;  // the size cap is the chosen provider's, checked after
  any_size.max_token_bytes = token.size();
  auto parts = Split(token, any_size);
  auto claims = parts ? DecodeObject(parts->payload, "the claims")
                      : TokenResult<boost::json::object>(std::unexpected(parts.error()));
  const auto* iss = claims ? claims->if_contains("iss") : nullptr;
  return iss != nullptr && iss->is_string() ? std::string(iss->get_string()) : "";
}

TokenResult<TokenHeader> ReadHeader(std::string_view token, const ProviderRules& rules) {
  auto parts = Split(token, rules);
  if (!parts) {
    return std::unexpected(parts.error());
  }
  auto header = DecodeObject(parts->header, "the header");
  if (!header) {
    return std::unexpected(header.error());
  }
  const auto* alg_value = header->if_contains("alg");
  auto alg = alg_value != nullptr && alg_value->is_string()
                 ? AlgorithmNamed(alg_value->get_string())
                 : std::nullopt;
  if (!alg ||
      std::find(rules.algorithms.begin(), rules.algorithms.end(), *alg) == rules.algorithms.end()) {
    return Refuse(TokenReason::kAlgorithmNotAllowed,
                  "alg is not one this provider's tokens may use");
  }
  if (header->contains("crit")) {
    return Refuse(TokenReason::kMalformed, "a critical header extension (crit) is not understood");
  }
  TokenHeader out{*alg, ""};
  if (const auto* kid = header->if_contains("kid"); kid != nullptr && kid->is_string()) {
    out.kid = std::string(kid->get_string());
  }
  return out;
}

TokenResult<VerifiedToken> VerifyIdToken(std::string_view token, std::string_view nonce,
                                         const ProviderRules& rules, const JwkSet& keys,
                                         system_clock::time_point now) {
  auto header = ReadHeader(token, rules);
  if (!header) {
    return std::unexpected(header.error());
  }
  const JwkSet::Key* key = keys.Find(header->kid);
  if (key == nullptr) {
    return Refuse(TokenReason::kUnknownKey, "no key of the provider has this kid");
  }
  if (!JwkSet::SignatureHolds(*key, header->alg, token)) {
    return Refuse(TokenReason::kBadSignature, "the signature does not hold");
  }
  auto claims = DecodeObject(Split(token, rules)->payload, "the claims");
  if (!claims) {
    return std::unexpected(claims.error());
  }
  const auto* iss = claims->if_contains("iss");
  if (iss == nullptr || !iss->is_string() || iss->get_string() != rules.issuer) {
    return Refuse(TokenReason::kWrongIssuer, "iss is not the provider's issuer");
  }
  if (auto aud = CheckAudience(*claims, rules); !aud) {
    return std::unexpected(aud.error());
  }
  if (auto times = CheckTimes(*claims, rules, now); !times) {
    return std::unexpected(times.error());
  }
  VerifiedToken out;
  out.idp = rules.name;
  out.expires_at = *Date(*claims, "exp");
  for (const auto& [name, value] : *claims) {
    if (auto text = AsText(value)) {
      out.claims.emplace_back(std::string(name), std::move(*text));
    } else if (auto list = AsTextList(value)) {
      out.lists.emplace_back(std::string(name), std::move(*list));
    }
  }
  std::sort(out.claims.begin(), out.claims.end());
  std::sort(out.lists.begin(), out.lists.end());
  if (!nonce.empty() && out.Claim("nonce") != nonce) {
    return Refuse(TokenReason::kNonceMismatch, "the token's nonce is not the one sent");
  }
  auto sub = out.Claim("sub");
  if (!sub || sub->empty()) {
    return Refuse(TokenReason::kMissingClaim, "the token has no sub");
  }
  out.subject = std::string(*sub);
  for (const auto& [name, value] : rules.required_claims) {
    if (out.Claim(name) != value) {
      return Refuse(TokenReason::kMissingClaim, "a required claim is absent or differs");
    }
  }
  if (rules.require_email_verified &&
      (!out.Claim("email") || out.Claim("email_verified") != "true")) {
    return Refuse(TokenReason::kEmailNotVerified, "the email is not verified");
  }
  return out;
}

}  // namespace vendo::oidc
