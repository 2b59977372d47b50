#include "vending/identity_scope.h"

#include <algorithm>
#include <boost/json.hpp>

#include "common/sorted_pairs.h"
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

const std::vector<FederatedProvider::ScopeRule>& RulesOf(const App& app, std::string_view idp) {
  static const std::vector<FederatedProvider::ScopeRule> kNone;
  for (const auto& p : app.providers) {
    if (p.rules.name == idp) {
      return p.scope_rules;
    }
  }
  return kNone;
}

bool Matches(const FederatedProvider::ScopeRule& rule, const IdentityClaims& identity) {
  if (const std::string* value = FindSorted(identity.claims, rule.claim)) {
    return *value == rule.equals;
  }
  const std::vector<std::string>* items = FindSorted(identity.lists, rule.claim);
  return items != nullptr && std::find(items->begin(), items->end(), rule.equals) != items->end();
}

}  // namespace

Result<IdentityScope> RenderIdentityScope(const App& app, const IdentityClaims& identity,
                                          std::string_view username, std::string_view user_id) {
  const policy::Template* tmpl = &app.policy;
  std::string role_arn;
  for (const auto& rule : RulesOf(app, identity.idp)) {
    if (Matches(rule, identity)) {
      tmpl = rule.policy ? &*rule.policy : tmpl;
      role_arn = rule.role_arn;
      break;
    }
  }
  policy::Vars vars{app.config.name,       "",
                    std::string(username), std::string(user_id),
                    app.config.aws.region, app.config.aws.account_id,
                    identity.idp,          identity.claims};
  auto rendered = tmpl->Render(vars);
  if (!rendered) {
    return NotUsable("the identity's claims do not fit the policy");
  }
  auto name =
      issuer::ExpandName(app.config.SessionNameTemplate(),
                         {app.config.name, "", username, user_id, identity.idp, &identity.claims});
  if (!name) {
    // Config load checked the template: only a claim this identity lacks is left.
    return NotUsable("a claim for the session name is missing");
  }
  IdentityScope out;
  out.session_name = issuer::MakeSessionName(*name, app.issuer->MaxSessionNameLength());
  out.policy_sha256 = policy::PolicyHash(*rendered);
  out.policy = std::move(*rendered);
  out.role_arn = std::move(role_arn);
  for (const auto& [tag, claim] : TagsOf(app, identity.idp)) {
    const std::string* value = FindSorted(identity.claims, claim);
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
  for (const auto& rule : RulesOf(app, idp)) {
    names.push_back(rule.claim);
    for (std::string& claim : rule.policy ? rule.policy->Claims() : std::vector<std::string>{}) {
      names.push_back(std::move(claim));
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

IdentityClaims UsedClaims(const App& app, const IdentityClaims& all) {
  std::vector<std::string> names = ScopeClaims(app, all.idp);
  IdentityClaims out{all.idp, {}, {}};
  for (const auto& claim : all.claims) {
    if (std::binary_search(names.begin(), names.end(), claim.first)) {
      out.claims.push_back(claim);  // `all` is sorted, so the result is too
    }
  }
  for (const auto& list : all.lists) {
    if (std::binary_search(names.begin(), names.end(), list.first)) {
      out.lists.push_back(list);
    }
  }
  return out;
}

std::string EncodeClaims(const IdentityClaims& identity) {
  boost::json::object claims;
  for (const auto& [name, value] : identity.claims) {
    claims[name] = value;
  }
  for (const auto& [name, items] : identity.lists) {
    boost::json::array list;
    for (const auto& item : items) {
      list.emplace_back(item);
    }
    claims[name] = std::move(list);
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
  IdentityClaims out{std::string(idp->get_string()), {}, {}};
  for (const auto& [name, value] : claims->get_object()) {
    if (value.is_string()) {
      out.claims.emplace_back(std::string(name), std::string(value.get_string()));
      continue;
    }
    if (!value.is_array()) {
      return bad();
    }
    std::vector<std::string> items;
    for (const auto& item : value.get_array()) {
      if (!item.is_string()) {
        return bad();
      }
      items.emplace_back(item.get_string());
    }
    out.lists.emplace_back(std::string(name), std::move(items));
  }
  std::sort(out.claims.begin(), out.claims.end());
  std::sort(out.lists.begin(), out.lists.end());
  return out;
}

}  // namespace vendo::server
