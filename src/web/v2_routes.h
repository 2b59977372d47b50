// Protocol v2's endpoints (docs/protocol-v2.md), under /v2/apps/NAME/: device registration,
// sign-up (JSON, or the sign-up page's form), login, tokens, secret rotation and
// self-revocation, and (federated apps) credentials for an ID token (federate_route.h). JSON in and
// out; the status table is V2ErrorResponse's (error_mapping.h). Every endpoint but the page writes
// the store (nonces, devices, users), so each runs on `blocking`.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "http/http_types.h"
#include "vending/app.h"
#include "vending/v2_service.h"
#include "web/federate_route.h"
#include "web/route_support.h"

namespace vendo::server {

class V2Routes {
 public:
  V2Routes(const std::vector<std::unique_ptr<App>>& apps, V2Service& v2, Federation& federation,
           store::Store* memory, const RouteParts& parts)
      : apps_(apps), v2_(v2), parts_(parts), federate_(federation, v2, memory, parts) {}

  // A request whose path starts with /v2/.
  void Handle(HttpRequest request, Responder respond);

 private:
  const App* Find(std::string_view name) const;
  void RegisterDevice(const App& app, HttpRequest request, Responder respond);
  void SignUp(const App& app, HttpRequest request, Responder respond);
  // The sign-up sent from the HTML form (answers with pages, not JSON).
  HttpResponse SignUpForm(const App& app, const HttpRequest& request);
  void Login(const App& app, HttpRequest request, Responder respond);
  void Token(const App& app, HttpRequest request, Responder respond);
  void Rotate(const App& app, HttpRequest request, Responder respond);
  void Revoke(const App& app, HttpRequest request, Responder respond);

  const std::vector<std::unique_ptr<App>>& apps_;
  V2Service& v2_;
  RouteParts parts_;
  FederateRoute federate_;
};

}  // namespace vendo::server
