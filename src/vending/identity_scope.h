// What a federated identity's claims grant: the rendered policy, the session name and the
// session tags. Federation renders it from a token's verified claims; a device bound to the
// identity (bind_device) keeps the claims the app uses, and GrantFor renders it from those.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vending/app.h"
#include "vendo/result.h"

namespace vendo::server {

using ClaimList = std::vector<std::pair<std::string, std::string>>;  // sorted by name

struct IdentityClaims {
  std::string idp;
  ClaimList claims;
};

struct IdentityScope {
  std::string session_name;
  std::string policy;
  std::string policy_sha256;
  std::vector<std::pair<std::string, std::string>> session_tags;
};

// Renders the scope of identity (`idp`, `claims`) kept as user `username`/`user_id` of `app`.
// A claim the policy or a session tag needs that is missing or could widen it is refused
// (kPermissionDenied, ErrorReason::kClaimNotUsable), never rewritten.
[[nodiscard]] Result<IdentityScope> RenderIdentityScope(const App& app, std::string_view idp,
                                                        const ClaimList& claims,
                                                        std::string_view username,
                                                        std::string_view user_id);

// The names of the claims `app` uses for provider `idp` (its policy's, its session name's and
// its session tags'), sorted, without repeats.
[[nodiscard]] std::vector<std::string> ScopeClaims(const App& app, std::string_view idp);
// The claims of `all` that `app` uses for provider `idp` (ScopeClaims): what a bound device
// keeps, and nothing more.
[[nodiscard]] IdentityClaims UsedClaims(const App& app, std::string_view idp, const ClaimList& all);
// As a bound device keeps them: {"idp": "...", "claims": {"NAME": "VALUE", ...}}.
[[nodiscard]] std::string EncodeClaims(const IdentityClaims& identity);
[[nodiscard]] Result<IdentityClaims> DecodeClaims(std::string_view json);

}  // namespace vendo::server
