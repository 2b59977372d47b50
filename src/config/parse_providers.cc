// A federated app's OpenID providers, one [[apps.NAME.identity_providers]] table each.
#include "config/parse_providers.h"

#include <algorithm>

#include "config/parse_policy.h"
#include "net/url.h"
#include "oidc/jwk_set.h"
#include "policy/template.h"

namespace vendo::server::config_reader {
namespace {

bool IsProviderName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
  });
}

void ParseAlgorithms(Checker& c, const toml::table& t, const std::string& p,
                     IdentityProviderConfig& idp) {
  std::vector<std::string> algorithms;
  if (!ReadStringList(c, t, "algorithms", p + "algorithms",
                      R"(a list of JWS algorithms, e.g. ["RS256", "ES256"])", algorithms)) {
    return;
  }
  for (const auto& alg : algorithms) {
    if (!oidc::AlgorithmNamed(alg)) {
      c.Problem(p + "algorithms",
                "\"" + alg +
                    "\" is not taken (RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 "
                    "ES512 EdDSA; never none or HMAC)");
    }
  }
  if (algorithms.empty()) {
    c.Problem(p + "algorithms", "must name at least one algorithm");
  }
  idp.algorithms = std::move(algorithms);
}

void ParseRequiredClaims(Checker& c, const toml::table& t, const std::string& p,
                         IdentityProviderConfig& idp) {
  const toml::node* n = t.get("required_claims");
  if (n == nullptr) {
    return;
  }
  const toml::table* claims = n->as_table();
  if (claims == nullptr) {
    c.Problem(p + "required_claims",
              "must be a table of claim = value, e.g. { hd = \"example.com\" }");
    return;
  }
  for (auto&& [name, value] : *claims) {
    std::string key = p + "required_claims." + std::string(name.str());
    if (auto s = value.value<std::string>()) {
      idp.required_claims.emplace_back(std::string(name.str()), *s);
    } else if (auto b = value.value<bool>()) {
      idp.required_claims.emplace_back(std::string(name.str()), *b ? "true" : "false");
    } else {
      c.Problem(key, "must be a string or true/false");
    }
  }
}

// A tag key STS takes (1-128 of letters, digits, space and _ . : / = + - @), not "aws:" (STS's
// own) nor "vendo:" (vendo's).
bool IsTagKey(std::string_view key) {
  if (key.empty() || key.size() > 128 || key.starts_with("aws:") || key.starts_with("vendo:")) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           std::string_view(" _.:/=+-@").find(ch) != std::string_view::npos;
  });
}

void ParseSessionTags(Checker& c, const toml::table& t, const std::string& p,
                      IdentityProviderConfig& idp) {
  const toml::node* n = t.get("session_tags");
  if (n == nullptr) {
    return;
  }
  const toml::table* tags = n->as_table();
  if (tags == nullptr) {
    c.Problem(p + "session_tags", R"(must be a table of tag = "claim", e.g. { email = "email" })");
    return;
  }
  for (auto&& [key, value] : *tags) {
    std::string tag(key.str());
    std::string where = p + "session_tags.";
    where += tag;
    auto claim = value.value<std::string>();
    if (!IsTagKey(tag)) {
      c.Problem(where,
                "not a tag key STS takes (1-128 of letters, digits and _ . : / = + - @; not aws: "
                "or vendo:)");
    } else if (!claim || claim->empty()) {
      c.Problem(where, R"(must name a claim, e.g. "email")");
    } else {
      idp.session_tags.emplace_back(tag, *claim);
    }
  }
  // STS takes at most 50 session tags; vendo's own are three.
  if (idp.session_tags.size() > 47) {
    c.Problem(p + "session_tags", "at most 47 (STS takes 50 session tags, vendo sets 3)");
  }
}

constexpr std::size_t kMaxRules = 64;

void ParseRule(Checker& c, const toml::table& t, const std::string& p, const std::string& base_dir,
               ClaimRuleConfig& rule) {
  CheckUnknownKeys(c, t, p, {"claim", "equals", "policy", "policy_file", "role_arn"});
  c.Read(t, "claim", p + "claim", rule.claim);
  if (!policy::IsClaimName(rule.claim)) {
    c.Problem(p + "claim", "required: a claim name (1-64 letters, digits, '_', '-' or '.')");
  }
  if (auto b = t["equals"].value<bool>()) {
    rule.equals = *b ? "true" : "false";
  } else {
    c.Read(t, "equals", p + "equals", rule.equals);
  }
  if (rule.equals.empty()) {
    c.Problem(p + "equals", "required: the claim's value (for an array claim, one of its items)");
  }
  ParsePolicyTemplate(c, t, p, base_dir, true, false, rule.policy);
  c.Read(t, "role_arn", p + "role_arn", rule.role_arn);
  if (!rule.role_arn.empty() && !rule.role_arn.starts_with("arn:")) {
    c.Problem(p + "role_arn", "must be a role ARN: arn:aws:iam::ACCOUNT:role/NAME");
  }
  if (rule.policy.empty() && rule.role_arn.empty()) {
    c.Problem(p, "a rule needs a policy, a policy_file or a role_arn");
  }
}

void ParseRules(Checker& c, const toml::table& t, const std::string& p, const std::string& base_dir,
                IdentityProviderConfig& idp) {
  const toml::node* n = t.get("rules");
  if (n == nullptr) {
    return;
  }
  const toml::array* list = n->as_array();
  if (list == nullptr || !list->is_array_of_tables()) {
    c.Problem(p + "rules", "must be an array of tables ([[...identity_providers.rules]])");
    return;
  }
  if (list->size() > kMaxRules) {
    c.Problem(p + "rules", "at most " + std::to_string(kMaxRules) + " rules");
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    ClaimRuleConfig rule;
    ParseRule(c, *list->get(i)->as_table(), p + "rules[" + std::to_string(i) + "].", base_dir,
              rule);
    idp.rules.push_back(std::move(rule));
  }
}

void ParseProvider(Checker& c, const toml::table& t, const std::string& p,
                   const std::string& base_dir, IdentityProviderConfig& idp) {
  CheckUnknownKeys(c, t, p,
                   {"name", "issuer_url", "audiences", "ca_file", "algorithms", "leeway_seconds",
                    "max_token_age_seconds", "required_claims", "min_refetch_seconds",
                    "max_token_bytes", "session_tags", "rules"});
  c.Read(t, "name", p + "name", idp.name);
  if (!IsProviderName(idp.name)) {
    c.Problem(p + "name", "required: 1-64 characters of a-z, 0-9, '-' and '_' (e.g. \"google\")");
  }
  c.Read(t, "issuer_url", p + "issuer_url", idp.issuer_url);
  if (auto url = net::ParseHttpUrl(idp.issuer_url); !url || !url->tls) {
    c.Problem(p + "issuer_url",
              "required: the provider's https:// issuer, exactly as its tokens' iss says it");
  }
  if (!ReadStringList(c, t, "audiences", p + "audiences",
                      "a list of the app's client ids at the provider", idp.audiences) ||
      idp.audiences.empty()) {
    c.Problem(p + "audiences", "required: the client ids whose tokens this app takes");
  }
  c.Read(t, "ca_file", p + "ca_file", idp.ca_file);
  if (!idp.ca_file.empty()) {
    idp.ca_file = Resolve(base_dir, idp.ca_file);
    bool readable = false;
    (void)ReadFile(idp.ca_file, readable);
    if (!readable) {
      c.Problem(p + "ca_file", "cannot read " + idp.ca_file);
    }
  }
  ParseAlgorithms(c, t, p, idp);
  ReadDuration(c, t, "leeway_seconds", p + "leeway_seconds", idp.leeway, 0, 300);
  ReadDuration(c, t, "max_token_age_seconds", p + "max_token_age_seconds", idp.max_token_age, 0,
               std::int64_t{86400} * 30);
  ReadDuration(c, t, "min_refetch_seconds", p + "min_refetch_seconds", idp.min_refetch, 1, 86400);
  auto max_bytes = static_cast<std::int64_t>(idp.max_token_bytes);
  c.Read(t, "max_token_bytes", p + "max_token_bytes", max_bytes);
  if (max_bytes < 1024 || max_bytes > 65536) {
    c.Problem(p + "max_token_bytes", "must be between 1024 and 65536");
  }
  idp.max_token_bytes = static_cast<std::size_t>(max_bytes);
  ParseRequiredClaims(c, t, p, idp);
  ParseSessionTags(c, t, p, idp);
  ParseRules(c, t, p, base_dir, idp);
}

}  // namespace

void ParseIdentityProviders(Checker& c, const toml::table& t, const std::string& p,
                            const std::string& base_dir, AppConfig& app) {
  const toml::node* n = t.get("identity_providers");
  if (n == nullptr) {
    if (app.federated) {
      c.Problem(p + "identity_providers",
                "required for federated apps: at least one [[" + p + "identity_providers]]");
    }
    return;
  }
  const toml::array* list = n->as_array();
  if (list == nullptr || !list->is_array_of_tables()) {
    c.Problem(p + "identity_providers",
              "must be an array of tables ([[" + p + "identity_providers]])");
    return;
  }
  if (!app.federated) {
    c.Problem(p + "identity_providers", "only for federated apps (mode = \"federated\")");
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    IdentityProviderConfig idp;
    ParseProvider(c, *list->get(i)->as_table(),
                  p + "identity_providers[" + std::to_string(i) + "].", base_dir, idp);
    for (const auto& other : app.identity_providers) {
      if (other.name == idp.name) {
        c.Problem(p + "identity_providers", "two providers are named \"" + idp.name + "\"");
      }
      if (other.issuer_url == idp.issuer_url) {
        c.Problem(p + "identity_providers",
                  "two providers have the issuer " + idp.issuer_url + " (a token's iss picks one)");
      }
    }
    app.identity_providers.push_back(std::move(idp));
  }
}

}  // namespace vendo::server::config_reader
