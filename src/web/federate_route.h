// POST /v2/apps/NAME/federate (federated apps): an ID token of one of the app's OpenID
// providers in, the v2 credentials JSON out (docs/protocol-v2.md). The token is checked where
// it lands (a key fetch, when one is due, answers on the HTTP client's thread). On a network
// thread, an identity whose record is in memory is vended there and then, as a cached 2012
// device is; any other goes to `blocking`, where the store may be waited on. With
// bind_device, a v2 device is bound to the identity there, and its id and secret come back
// beside the credentials.
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

  // bind_device: a new device bound to the identity, and its audit line; `unbind` deletes it.
  V2Result<V2Registration> Bind(Call& call, const FederatedGrant& grant,
                                const oidc::VerifiedToken& token, Undo* unbind);
  // `done`, after taking the bound device back when the vend failed.
  VendDone UnbindIfNotVended(const std::shared_ptr<Call>& call, const FederatedGrant& grant,
                             std::string device_id, Undo unbind, VendDone done);

  Federation& federation_;
  V2Service& v2_;
  store::Store* memory_;
  RouteParts parts_;
};

}  // namespace vendo::server
