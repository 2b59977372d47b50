// POST /v2/apps/NAME/federate (federated apps): an ID token of one of the app's OpenID
// providers in, the v2 credentials JSON out (docs/protocol-v2.md). The token is checked where
// it lands (a key fetch, when one is due, answers on the HTTP client's thread); the identity's
// record and the vend then run on `blocking`, since they may wait on the store.
#pragma once

#include "http/http_types.h"
#include "vending/app.h"
#include "vending/federation.h"
#include "vending/v2_service.h"
#include "web/route_support.h"

namespace vendo::server {

class FederateRoute {
 public:
  FederateRoute(Federation& federation, V2Service& v2, const RouteParts& parts)
      : federation_(federation), v2_(v2), parts_(parts) {}

  void Handle(const App& app, HttpRequest request, Responder respond);

 private:
  struct Call;  // one request on its way: what the token check and the vend hold on to
  // After the token check, on `blocking`: the identity, the audit of a new one, the vend.
  void Vend(const std::shared_ptr<Call>& call, V2Result<oidc::VerifiedToken> verified);

  Federation& federation_;
  V2Service& v2_;
  RouteParts parts_;
};

}  // namespace vendo::server
