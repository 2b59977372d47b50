// Router: the devices' listener's handler. /healthz and /readyz are global; /v2/... goes to
// the v2 routes; everything else is the 2012 protocol: app NAME answers under /apps/NAME/...,
// and the default app also at the root paths the 2012 clients use. Paths are case-sensitive;
// GET and POST are equivalent for the 2012 paths.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/task_runner.h"
#include "http/http_types.h"
#include "store/store.h"
#include "vending/app.h"
#include "vending/federation.h"
#include "vending/legacy_service.h"
#include "vending/v2_service.h"
#include "web/legacy_routes.h"
#include "web/route_support.h"
#include "web/v2_routes.h"

namespace vendo::server {

// Why the server is not ready ("" when it is): the store must answer and every app's issuer
// must hold credentials. May wait on the network: call it off the network threads.
std::string ReadinessProblems(const std::vector<std::unique_ptr<App>>& apps, store::Store& store);

class Router final : public Handler {
 public:
  // `memory`: the store's memory-only view (CachingStore::MemoryOnly), which the network
  // threads read instead of waiting on the store; null sends every read to `parts.blocking`.
  // `probes`: runs /readyz's checks, apart from `parts.blocking`, so that a store that hangs
  // every worker there still gets a prompt "not ready".
  Router(const std::vector<std::unique_ptr<App>>& apps, const App* default_app,
         LegacyService& service, V2Service& v2, Federation& federation, store::Store& store,
         store::Store* memory, TaskRunner& probes, const RouteParts& parts)
      : apps_(apps),
        default_app_(default_app),
        store_(store),
        probes_(probes),
        legacy_routes_(service, store, memory, parts),
        v2_routes_(apps, v2, federation, memory, parts) {}

  void Handle(HttpRequest request, Responder respond) override;
  // v2: 503 server_busy with Retry-After; the 2012 paths: their 500, which old clients retry.
  HttpResponse Overdue(std::string_view target) const override;

 private:
  // The app a 2012 path names, and the path below its prefix in `rest`.
  const App* Resolve(std::string_view path, std::string_view& rest) const;

  const std::vector<std::unique_ptr<App>>& apps_;
  const App* default_app_;
  store::Store& store_;
  TaskRunner& probes_;
  LegacyRoutes legacy_routes_;
  V2Routes v2_routes_;
};

}  // namespace vendo::server
