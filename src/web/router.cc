#include "web/router.h"

#include <utility>

#include "web/error_mapping.h"
#include "web/route_support.h"

namespace vendo::server {

std::string ReadinessProblems(const std::vector<std::unique_ptr<App>>& apps, store::Store& store) {
  std::string problems;
  if (auto ping = store.Ping(); !ping) {
    problems += "store unavailable\n";
  }
  for (const auto& app : apps) {
    if (auto ready = app->issuer->Ready(); !ready) {
      problems += "app " + app->config.name + ": " + ready.error().message + "\n";
    }
  }
  return problems;
}

const App* Router::Resolve(std::string_view path, std::string_view& rest) const {
  constexpr std::string_view kApps = "/apps/";
  if (path.starts_with(kApps)) {
    std::string_view tail = path.substr(kApps.size());
    std::string_view name = tail.substr(0, tail.find('/'));
    for (const auto& app : apps_) {
      if (app->config.name == name) {
        rest = tail.substr(name.size());
        return app.get();
      }
    }
    return nullptr;
  }
  rest = path;
  return default_app_;
}

HttpResponse Router::Overdue(std::string_view target) const {
  if (target.starts_with("/v2/")) {
    return V2ErrorResponse(
        V2Failure{V2Code::kServerBusy, "the request took too long; retry shortly", 0, 2}, "");
  }
  if (target.starts_with("/healthz") || target.starts_with("/readyz")) {
    return Handler::Overdue(target);
  }
  return LegacyErrorResponse(ErrorCode::kUnavailable);
}

void Router::Handle(HttpRequest request, Responder respond) {
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/healthz") {
    respond(Text(200, "ok\n"));
    return;
  }
  if (path == "/readyz") {
    // Ready when the store answers and every app's issuer holds credentials. The store ping
    // may wait on the network (PostgreSQL), so it runs off the network threads.
    probes_.Post([this, respond = std::move(respond)] {
      std::string problems = ReadinessProblems(apps_, store_);
      respond(problems.empty() ? Text(200, "ready\n") : Text(503, problems));
    });
    return;
  }
  if (path.starts_with("/v2/")) {
    v2_routes_.Handle(std::move(request), std::move(respond));
    return;
  }
  if (request.method != "GET" && request.method != "POST") {
    HttpResponse r = Text(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, POST");
    respond(std::move(r));
    return;
  }
  std::string_view rest;
  const App* app = Resolve(path, rest);
  if (app == nullptr) {
    respond(Text(404, "not found\n"));
    return;
  }
  // `rest` views the request's target, which moves (a short one's bytes move out of it).
  std::string below(rest);
  legacy_routes_.Handle(*app, below, std::move(request), std::move(respond));
}

}  // namespace vendo::server
