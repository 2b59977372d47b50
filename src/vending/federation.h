// Web identity federation, free of HTTP: what POST /v2/apps/NAME/federate does before the
// vend (vend.h) and after the route has read the body.
//
// 1. Verify: the ID token's "iss" picks one of the app's providers; the token is checked
//    against that provider's rules with its keys (oidc/id_token.h, oidc/key_source.h). A key
//    id the keys lack asks the key source once for a refetch, then checks again.
// 2. Grant, where blocking is allowed: the identity is (provider, sub), kept as a user of the
//    app named "PROVIDER:SUB" (made the first time it is seen, so that an operator can list
//    and disable it with `vendo user`); a disabled identity is refused. The policy and the
//    session name are rendered from the verified claims (${idp}, ${claim:NAME}); the
//    credential cache and its single flight then key on the identity.
// 3. BindDevice (bind_device): a v2 device bound to the identity, which keeps the claims the
//    app uses; GrantFor renders its later signed token requests from them.
// The token itself is never stored or logged.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/random.h"
#include "issuer/issuer.h"
#include "oidc/id_token.h"
#include "store/store.h"
#include "vending/app.h"
#include "vending/undo.h"
#include "vending/v2_service.h"

namespace vendo::server {

struct FederateRequest {
  std::string id_token;
  std::string nonce;  // optional: then the token's nonce must be this
  bool bind_device = false;
};
// {"id_token": "...", "nonce": "...", "bind_device": true}; only id_token is required.
[[nodiscard]] V2Result<FederateRequest> ParseFederateBody(std::string_view body);

// The user name a federated identity is kept under.
std::string FederatedUsername(std::string_view idp, std::string_view subject);

// A token failure as v2 answers it: invalid_token (401) with the reason, or
// provider_unavailable (503, Retry-After) when no keys can be had.
V2Failure TokenFailureToV2(const oidc::TokenFailure& failure);

struct FederatedGrant {
  issuer::IssueRequest request;
  std::string user_id;
  std::string username;  // FederatedUsername
  bool new_identity = false;
};

class Federation {
 public:
  Federation(store::Store& store, const Clock& clock, Random& random)
      : store_(store), clock_(clock), random_(random) {}

  using Verified = std::function<void(V2Result<oidc::VerifiedToken>)>;
  // Checks `request`'s token for `app`; `done` runs once, on any thread (a key fetch may come
  // first). The request must outlive the call.
  void Verify(const App& app, const FederateRequest& request, Verified done);

  // The identity's record (made on first sight; `undo` then deletes it again), refused when
  // disabled (user_disabled), and the issuer request rendered from the claims. May block.
  [[nodiscard]] V2Result<FederatedGrant> Grant(const App& app, const oidc::VerifiedToken& token,
                                               Undo* undo);
  // bind_device: a new v2 device bound to the identity of `grant`, keeping the claims of
  // `token` that the app uses (and no others), so that its signed token requests are scoped
  // as this token is. `undo` then deletes the device. May block.
  [[nodiscard]] V2Result<V2Registration> BindDevice(const App& app, const FederatedGrant& grant,
                                                    const oidc::VerifiedToken& token, Undo* undo);
  // The same from the store's memory-only view, for a network thread: nullopt when the
  // identity is not in memory (then Grant, where blocking is allowed).
  [[nodiscard]] std::optional<V2Result<FederatedGrant>> GrantFromMemory(
      const App& app, const oidc::VerifiedToken& token, store::Store& memory);

 private:
  // Refuses a disabled identity; renders the grant from the claims.
  V2Result<FederatedGrant> Finish(const App& app, const oidc::VerifiedToken& token,
                                  const store::UserRecord& user, FederatedGrant out);

  store::Store& store_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace vendo::server
