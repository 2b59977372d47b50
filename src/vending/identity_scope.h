// What a federated identity's claims grant: the rendered policy, the session name and the
// session tags. Federation renders it from a token's verified claims; a device bound to the
// identity (bind_device) keeps the claims the app uses, and GrantFor renders it from those.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vending/app.h"
#include "vending/principal_cache.h"
#include "vendo/result.h"

namespace vendo::server {

using ClaimList = std::vector<std::pair<std::string, std::string>>;  // sorted by name
// Claims that are arrays of strings ("groups"), sorted by name: what claim rules match on.
using ClaimLists = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct IdentityClaims {
  std::string idp;
  ClaimList claims;
  ClaimLists lists{};
};

// The session name, the policy (and its hash), the session tags and the role a claim rule
// chose.
using IdentityScope = RenderedGrant;

// Renders the scope of `identity` kept as user `username`/`user_id` of `app`: the provider's
// first claim rule that matches gives its policy and role, else the app's apply. A claim the
// policy, the session name or a session tag needs that is missing or could widen it is refused
// (kPermissionDenied, ErrorReason::kClaimNotUsable), never rewritten.
[[nodiscard]] Result<IdentityScope> RenderIdentityScope(const App& app,
                                                        const IdentityClaims& identity,
                                                        std::string_view username,
                                                        std::string_view user_id);

// The names of the claims `app` uses for provider `idp` (its policies', its session name's, its
// session tags' and its claim rules'), sorted, without repeats.
[[nodiscard]] std::vector<std::string> ScopeClaims(const App& app, std::string_view idp);
// The claims of `all` that `app` uses for provider `idp` (ScopeClaims): what a bound device
// keeps, and nothing more.
[[nodiscard]] IdentityClaims UsedClaims(const App& app, const IdentityClaims& all);
// As a bound device keeps them: {"idp": "...", "claims": {"NAME": "VALUE", "LIST": ["V"]}}.
[[nodiscard]] std::string EncodeClaims(const IdentityClaims& identity);
[[nodiscard]] Result<IdentityClaims> DecodeClaims(std::string_view json);

}  // namespace vendo::server
