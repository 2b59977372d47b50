// Router: maps a request to an app and an endpoint of the 2012 protocol.
//
// App NAME answers under /apps/NAME/...; the default app also answers at the root paths the
// 2012 clients use. Paths are case-sensitive and match as the servlet mappings did ("/gettoken"
// and "/gettoken/anything"). GET and POST are equivalent. /healthz and /readyz are global.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "common/task_runner.h"
#include "http/http_types.h"
#include "metrics/metrics.h"
#include "vending/app.h"
#include "vending/audit_trail.h"
#include "vending/legacy_service.h"
#include "vending/limits.h"
#include "vending/undo.h"
#include "vending/v2_service.h"
#include "vending/vend.h"
#include "web/pages.h"

namespace vendo::server {

// Why the server is not ready ("" when it is): the store must answer and every app's issuer
// must hold credentials. May wait on the network: call it off the network threads.
std::string ReadinessProblems(const std::vector<std::unique_ptr<App>>& apps, store::Store& store);

class Router final : public Handler {
 public:
  // `memory`: the store's memory-only view (CachingStore::MemoryOnly), which the network
  // threads read instead of waiting on the store; null sends every read to `blocking`.
  // `probes`: runs /readyz's checks, apart from `blocking`, so that a store that hangs every
  // worker there still gets a prompt "not ready".
  Router(const std::vector<std::unique_ptr<App>>& apps, const App* default_app,
         LegacyService& service, V2Service& v2, store::Store& store, store::Store* memory,
         TaskRunner& blocking, TaskRunner& probes, AuditTrail& trail, Vend& vend, Limiter& limiter)
      : apps_(apps),
        default_app_(default_app),
        service_(service),
        v2_(v2),
        store_(store),
        memory_(memory),
        blocking_(blocking),
        probes_(probes),
        trail_(trail),
        vend_(vend),
        limiter_(limiter) {}

  void Handle(HttpRequest request, Responder respond) override;
  // v2: 503 server_busy with Retry-After; the 2012 paths: their 500, which old clients retry.
  HttpResponse Overdue(std::string_view target) const override;

 private:
  enum class Endpoint { kHome, kRegisterDevice, kGetToken, kLogin, kRegisterUser, kRegisterPage };

  const App* Resolve(std::string_view path, std::string_view& rest) const;
  static bool Matches(std::string_view rest, std::string_view endpoint);
  void Dispatch(const App& app, Endpoint endpoint, HttpRequest request, Responder respond);
  // On a network thread (`may_block` false) it reads the memory-only view and moves to
  // `blocking` when a record is not in memory.
  void GetToken(const App& app, HttpRequest request, Responder respond, bool may_block);
  void RegisterUser(const App& app, const HttpRequest& request, Responder respond);
  // /v2/apps/NAME/...: protocol v2 (docs/protocol-v2.md).
  void HandleV2(HttpRequest request, Responder respond);
  // The registration page; its form posts to `action`.
  HttpResponse RegisterPage(const App& app, const HttpRequest& request, pages::RegisterForm form,
                            int status = 200);
  // The v2 sign-up sent from the HTML form (answers with pages, not JSON).
  HttpResponse V2SignUpForm(const App& app, const HttpRequest& request);
  void V2Token(const App& app, HttpRequest request, Responder respond);
  const std::vector<std::unique_ptr<App>>& apps_;
  const App* default_app_;
  LegacyService& service_;
  V2Service& v2_;
  store::Store& store_;
  store::Store* memory_;
  TaskRunner& blocking_;
  TaskRunner& probes_;
  AuditTrail& trail_;
  Vend& vend_;
  Limiter& limiter_;
  OsRandom token_random_;  // CSRF tokens
};

}  // namespace vendo::server
