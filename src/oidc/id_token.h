// Checking an OpenID Connect ID token (a compact JWS) against one provider's rules and keys,
// as OpenID Connect Core 1.0 section 3.1.3.7 asks and a security reviewer expects:
//  - a size cap, before anything is decoded;
//  - the header's "alg" on the provider's allow-list ("none" and HMAC never), no "crit";
//  - the key its "kid" names, of the type the algorithm needs, and its signature;
//  - "iss" exactly the provider's, "aud" one of the app's client ids (with several audiences
//    "azp" must be present and one of them), "exp", "nbf" and "iat" within a small leeway
//    and, when configured, a maximum age; the nonce the client sent, when it sent one;
//  - "sub" present, the configured required claims, and "email_verified": true when the
//    app's templates use the email.
// A failure names its reason (which check failed), never which ones passed.
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/jwk_set.h"

namespace vendo::oidc {

enum class TokenReason {
  kMalformed,            // not a compact JWS with JSON header and claims
  kTooLarge,             // over the provider's max_token_bytes
  kAlgorithmNotAllowed,  // "none", HMAC, or an algorithm off the provider's list
  kUnknownKey,           // no key of the provider has this "kid" (even after a refetch)
  kBadSignature,         // the signature does not hold, or the key cannot check this "alg"
  kWrongIssuer,
  kWrongAudience,  // no audience of the app, or a bad "azp"
  kExpired,
  kNotYetValid,  // "nbf" or "iat" in the future
  kTooOld,       // issued longer ago than max_token_age
  kNonceMismatch,
  kMissingClaim,  // "sub", or a required claim, is absent or holds another value
  kEmailNotVerified,
  kProviderUnavailable,  // no keys: the provider cannot be reached and none are cached
};
// The stable name clients see ("expired", "wrong_audience", "unknown_key", ...).
std::string_view TokenReasonName(TokenReason reason);

struct TokenFailure {
  TokenReason reason;
  std::string detail;  // for the server's log; never the token
};
template <class T>
using TokenResult = std::expected<T, TokenFailure>;

struct ProviderRules {
  std::string name;    // the provider's name in the configuration: ${idp}
  std::string issuer;  // "iss" must be exactly this
  std::vector<std::string> audiences;
  std::vector<Algorithm> algorithms = {Algorithm::kRS256, Algorithm::kPS256, Algorithm::kES256,
                                       Algorithm::kEdDSA};
  std::chrono::seconds leeway{60};
  std::chrono::seconds max_token_age{0};  // 0: any age, while unexpired
  // Claims that must hold exactly this value (strings; booleans as "true" or "false").
  std::vector<std::pair<std::string, std::string>> required_claims;
  bool require_email_verified = false;
  std::size_t max_token_bytes = std::size_t{16} * 1024;
};

inline constexpr std::size_t kMaxListItems = 256;

struct VerifiedToken {
  std::string idp;
  std::string subject;
  // Every top-level claim with a string, boolean or integer value, as text, by name.
  std::vector<std::pair<std::string, std::string>> claims;
  // Every top-level claim that is an array of strings ("groups", "roles"), by name: what
  // claim rules match on. At most kMaxListItems items each are kept.
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;
  std::chrono::system_clock::time_point expires_at;

  std::optional<std::string_view> Claim(std::string_view name) const;
};

struct TokenHeader {
  Algorithm alg;
  std::string kid;
};
// The header's algorithm (allowed by `rules`) and key id: what to look the key up by.
[[nodiscard]] TokenResult<TokenHeader> ReadHeader(std::string_view token,
                                                  const ProviderRules& rules);

// The "iss" of a token not yet checked ("" when there is none to read), only to pick the
// provider whose rules and keys then check everything, "iss" included.
std::string UnverifiedIssuer(std::string_view token);

// The whole check. `nonce`: what the client sent beside the token ("" for none).
[[nodiscard]] TokenResult<VerifiedToken> VerifyIdToken(std::string_view token,
                                                       std::string_view nonce,
                                                       const ProviderRules& rules,
                                                       const JwkSet& keys,
                                                       std::chrono::system_clock::time_point now);

}  // namespace vendo::oidc
