// An app as the server runs it: its configuration plus what was built from it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/app_config.h"
#include "issuer/issuer.h"
#include "oidc/id_token.h"
#include "oidc/key_source.h"
#include "policy/template.h"
#include "vending/principal_cache.h"

namespace vendo::server {

// One OpenID provider of a federated app: the rules its tokens are checked by, and where its
// keys come from (built by serve, one key source per provider).
struct FederatedProvider {
  oidc::ProviderRules rules;
  oidc::KeySource* keys = nullptr;
  // Its claim rules (config's ClaimRuleConfig, the policy parsed), in order: the first whose
  // claim matches gives its policy and role instead of the app's.
  struct ScopeRule {
    std::string claim;
    std::string equals;
    std::optional<policy::Template> policy;  // none: the app's
    std::string role_arn;                    // empty: the app's
  };
  std::vector<ScopeRule> scope_rules{};
};

struct App {
  AppConfig config;
  policy::Template policy;
  issuer::Issuer* issuer = nullptr;
  std::string salt_endpoint;  // NormalizeEndpoint(config.public_endpoint)
  std::string display_name;   // lower(config.app_name), as the 2012 pages print it
  // Session names and policies rendered for this app's principals (see GrantFor).
  std::shared_ptr<PrincipalCache> rendered = std::make_shared<PrincipalCache>();
  // An argon2id hash (of a random password, with this app's parameters) that a v2 login for
  // an unknown username is checked against, so that it costs what a known one costs: the
  // answer's timing must not say which usernames exist. Made at start for identity apps.
  std::string decoy_password_hash{};
  std::vector<FederatedProvider> providers{};  // federated apps
};

}  // namespace vendo::server
