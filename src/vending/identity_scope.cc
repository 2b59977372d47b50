#include "vending/identity_scope.h"

#include <algorithm>
#include <boost/json.hpp>

#include "issuer/session_name.h"
#include "issuer/sts_issuer.h"
#include "policy/hash.h"

namespace vendo::server {
namespace {

std::unexpected<Error> NotUsable(std::string message) {
  return std::unexpected(
      Error{ErrorCode::kPermissionDenied, std::move(message), {}, ErrorReason::kClaimNotUsable});
}

const ClaimList& TagsOf(const App& app, std::string_view idp) {
  static const ClaimList kNone;
  for (const auto& p : app.config.identity_providers) {
    if (p.name == idp) {
      return p.session_tags;
    }
  }
  return kNone;
}

const std::string* Find(const ClaimList& claims, std::string_view name) {
  auto it = std::lower_bound(claims.begin(), claims.end(), name,
                             [](const auto& c, std::string_view n) { return c.first < n; });
  return it != claims.end() && it->first == name ? &it->second : nullptr;
}

}  // namespace

Result<IdentityScope> RenderIdentityScope(const App& app, std::string_view idp,
                                          const ClaimList& claims, std::string_view username,
                                          std::string_view user_id) {
  policy::Vars vars{app.config.name,       "",
                    std::string(username), std::string(user_id),
                    app.config.aws.region, app.config.aws.account_id,
                    std::string(idp),      claims};
  auto rendered = app.policy.Render(vars);
  if (!rendered) {
    return NotUsable("the identity's claims do not fit the policy");
  }
  auto name = issuer::ExpandName(app.config.SessionNameTemplate(),
                                 {app.config.name, "", username, user_id, idp, &claims});
  if (!name) {
    // Config load checked the template: only a claim this identity lacks is left.
    return NotUsable("a claim for the session name is missing");
  }
  IdentityScope out;
  out.session_name = issuer::MakeSessionName(*name, app.issuer->MaxSessionNameLength());
  out.policy_sha256 = policy::PolicyHash(*rendered);
  out.policy = std::move(*rendered);
  for (const auto& [tag, claim] : TagsOf(app, idp)) {
    const std::string* value = Find(claims, claim);
    auto sendable = value != nullptr ? issuer::TagValue(*value) : std::nullopt;
    if (!sendable) {
      return NotUsable("a claim for a session tag is missing or unfit");
    }
    out.session_tags.emplace_back(tag, std::move(*sendable));
  }
  return out;
}

std::vector<std::string> ScopeClaims(const App& app, std::string_view idp) {
  std::vector<std::string> names = app.policy.Claims();
  for (std::string& claim : issuer::NameClaims(app.config.SessionNameTemplate())) {
    names.push_back(std::move(claim));
  }
  for (const auto& [tag, claim] : TagsOf(app, idp)) {
    names.push_back(claim);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

IdentityClaims UsedClaims(const App& app, std::string_view idp, const ClaimList& all) {
  std::vector<std::string> names = ScopeClaims(app, idp);
  IdentityClaims out{std::string(idp), {}};
  for (const auto& [name, value] : all) {
    if (std::binary_search(names.begin(), names.end(), name)) {
      out.claims.emplace_back(name, value);  // `all` is sorted, so the result is too
    }
  }
  return out;
}

std::string EncodeClaims(const IdentityClaims& identity) {
  boost::json::object claims;
  for (const auto& [name, value] : identity.claims) {
    claims[name] = value;
  }
  return boost::json::serialize(boost::json::object{{"idp", identity.idp}, {"claims", claims}});
}

Result<IdentityClaims> DecodeClaims(std::string_view json) {
  auto bad = [] {
    return Fail(ErrorCode::kInternal, "a bound device's kept claims are unreadable");
  };
  boost::system::error_code ec;
  auto doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object()) {
    return bad();
  }
  const auto* idp = doc.get_object().if_contains("idp");
  const auto* claims = doc.get_object().if_contains("claims");
  if (idp == nullptr || !idp->is_string() || claims == nullptr || !claims->is_object()) {
    return bad();
  }
  IdentityClaims out{std::string(idp->get_string()), {}};
  for (const auto& [name, value] : claims->get_object()) {
    if (!value.is_string()) {
      return bad();
    }
    out.claims.emplace_back(std::string(name), std::string(value.get_string()));
  }
  std::sort(out.claims.begin(), out.claims.end());
  return out;
}

}  // namespace vendo::server
