#include "cli/providers.h"

#include <algorithm>

#include "vending/identity_scope.h"

namespace vendo::cli {
namespace {

// The provider's claim rules, their policies parsed (config load checked them).
std::vector<server::FederatedProvider::ScopeRule> ScopeRulesOf(const server::App& app,
                                                               std::string_view idp) {
  std::vector<server::FederatedProvider::ScopeRule> out;
  for (const auto& provider : app.config.identity_providers) {
    if (provider.name != idp) {
      continue;
    }
    for (const auto& rule : provider.rules) {
      std::optional<policy::Template> tmpl;  // none: the app's
      if (!rule.policy.empty()) {
        if (auto parsed = policy::Template::Parse(rule.policy)) {
          tmpl = std::move(*parsed);
        }
      }
      out.push_back({rule.claim, rule.equals, std::move(tmpl), rule.role_arn});
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<ProviderSet>> ProviderSet::Build(const server::Config& cfg,
                                                        const Clock& clock) {
  auto set = std::make_unique<ProviderSet>();
  for (const auto& app : cfg.apps) {
    for (const auto& idp : app.identity_providers) {
      net::HttpClientOptions options;
      options.ca_file = idp.ca_file;
      options.max_response_bytes = std::size_t{512} * 1024;  // a discovery document or a JWKS
      auto client = net::HttpClient::Create(options);
      if (!client) {
        return Fail(client.error().code, "apps." + app.name + ".identity_providers " + idp.name +
                                             ": " + client.error().message);
      }
      Provider p;
      p.app = app.name;
      p.rules.name = idp.name;
      p.rules.issuer = idp.issuer_url;
      p.rules.audiences = idp.audiences;
      p.rules.algorithms.clear();
      for (const auto& alg : idp.algorithms) {
        if (auto a = oidc::AlgorithmNamed(alg)) {
          p.rules.algorithms.push_back(*a);
        }
      }
      p.rules.leeway = idp.leeway;
      p.rules.max_token_age = idp.max_token_age;
      p.rules.required_claims = idp.required_claims;
      p.rules.max_token_bytes = idp.max_token_bytes;
      p.client = std::move(*client);
      p.keys = std::make_unique<oidc::KeySource>(
          *p.client, clock,
          oidc::KeySourceOptions{.issuer_url = idp.issuer_url, .min_refetch = idp.min_refetch});
      set->providers_.push_back(std::move(p));
    }
  }
  return set;
}

void ProviderSet::AttachTo(std::vector<std::unique_ptr<server::App>>& apps) const {
  for (auto& app : apps) {
    for (const auto& p : providers_) {
      if (p.app == app->config.name) {
        app->providers.push_back({p.rules, p.keys.get(), ScopeRulesOf(*app, p.rules.name)});
        auto claims = server::ScopeClaims(*app, p.rules.name);  // its rules' claims too
        app->providers.back().rules.require_email_verified =
            std::binary_search(claims.begin(), claims.end(), "email");
      }
    }
  }
}

}  // namespace vendo::cli
