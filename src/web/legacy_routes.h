// The 2012 protocol's endpoints of one app, with the byte-exact answers its old clients
// expect: /registerdevice (anonymous apps), /login, /registeruser and /register.jsp (identity
// apps), /gettoken and the app's home page. Each calls its use case where it may run: a token
// for a device whose records are in memory on the network thread, everything that waits on
// the store on `blocking`. The router has found the app; these find the endpoint.
#pragma once

#include <functional>
#include <string_view>

#include "http/http_types.h"
#include "store/store.h"
#include "vending/app.h"
#include "vending/legacy_service.h"
#include "web/route_support.h"

namespace vendo::server {

class LegacyRoutes {
 public:
  // `memory`: the store's memory-only view (CachingStore::MemoryOnly), which the network
  // threads read instead of waiting on the store; null sends every read to `blocking`.
  LegacyRoutes(LegacyService& service, store::Store& store, store::Store* memory,
               const RouteParts& parts)
      : service_(service), store_(store), memory_(memory), parts_(parts) {}

  // A request to `rest`, the path below the app's prefix ("/gettoken", "/login/x", ""); it
  // must not view `request`, which moves.
  void Handle(const App& app, std::string_view rest, HttpRequest request, Responder respond);

 private:
  // Paths match as the servlet mappings did: "/gettoken" and "/gettoken/anything".
  static bool Matches(std::string_view rest, std::string_view endpoint);
  // Runs `step` on `blocking` with the request's parameters; a request whose parameters
  // cannot be read gets the 2012 error for that instead.
  using ParamsStep =
      std::function<void(const Params& params, const HttpRequest& request, const Responder&)>;
  void OnBlocking(const App& app, HttpRequest request, Responder respond, ParamsStep step);
  void RegisterDevice(const App& app, HttpRequest request, Responder respond);
  void Login(const App& app, HttpRequest request, Responder respond);
  // On a network thread (`may_block` false) it reads the memory-only view and moves to
  // `blocking` when a record is not in memory.
  void GetToken(const App& app, HttpRequest request, Responder respond, bool may_block);
  void RegisterUser(const App& app, const HttpRequest& request, Responder respond);

  LegacyService& service_;
  store::Store& store_;
  store::Store* memory_;
  RouteParts parts_;
};

}  // namespace vendo::server
