// ProviderSet: the OpenID providers of every federated app, as the server runs them: one
// HTTPS client (with the provider's own CA bundle, if it has one) and one key source each,
// and the rules its tokens are checked by. Built by serve, which hands each app its providers.
#pragma once

#include <memory>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "net/http_client.h"
#include "oidc/key_source.h"
#include "vending/app.h"

namespace vendo::cli {

class ProviderSet {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ProviderSet>> Build(const server::Config& cfg,
                                                                  const Clock& clock);
  // Gives each federated app its providers (rules, and the key source to check them with).
  // Apps whose policy, session name or session tags use the email claim take only verified
  // emails.
  void AttachTo(std::vector<std::unique_ptr<server::App>>& apps) const;

 private:
  struct Provider {
    std::string app;
    oidc::ProviderRules rules;
    std::unique_ptr<net::HttpClient> client;
    std::unique_ptr<oidc::KeySource> keys;
  };
  std::vector<Provider> providers_;
};

}  // namespace vendo::cli
