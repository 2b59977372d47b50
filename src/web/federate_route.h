// POST /v2/apps/NAME/federate (federated apps): an ID token of one of the app's OpenID
// providers in, the v2 credentials JSON out (docs/protocol-v2.md). The token is checked where
// it lands (a key fetch, when one is due, answers on the HTTP client's thread). On a network
// thread, an identity whose record is in memory is vended there and then, as a cached 2012
// device is; any other goes to `blocking`, where the store may be waited on.
#pragma once

#include "http/http_types.h"
#include "vending/app.h"
#include "vending/federation.h"
#include "vending/v2_service.h"
#include "web/route_support.h"

namespace vendo::server {

class FederateRoute {
 public:
  // `memory`: the store's memory-only view (null: every identity is looked up on `blocking`).
  FederateRoute(Federation& federation, V2Service& v2, store::Store* memory,
                const RouteParts& parts)
      : federation_(federation), v2_(v2), memory_(memory), parts_(parts) {}

  void Handle(const App& app, HttpRequest request, Responder respond);

 private:
  struct Call;  // one request on its way: what the token check and the vend hold on to
  // After the token check, on `blocking`: the identity, the audit of a new one, the vend.
  void Vend(const std::shared_ptr<Call>& call, V2Result<oidc::VerifiedToken> verified);
  // The vend of a granted identity; `undo` takes back a new identity its audit cannot record.
  void Answer(const std::shared_ptr<Call>& call, const oidc::VerifiedToken& token,
              V2Result<FederatedGrant> grant, const Undo& undo);

  Federation& federation_;
  V2Service& v2_;
  store::Store* memory_;
  RouteParts parts_;
};

}  // namespace vendo::server
