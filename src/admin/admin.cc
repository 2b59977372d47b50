#include "admin/admin.h"

#include "admin/status_page.h"
#include "crypto/hmac.h"
#include "web/pages.h"
#include "web/router.h"

namespace vendo::server {
namespace {

HttpResponse Plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.app = "admin";
  return r;
}

}  // namespace

bool AdminHandler::Authorized(const HttpRequest& request) const {
  if (token_.empty()) {
    return true;
  }
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view given = request.authorization;
  return given.starts_with(kBearer) &&
         crypto::ConstantTimeEquals(given.substr(kBearer.size()), token_);
}

void AdminHandler::Handle(HttpRequest request, Responder respond) {
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  if (!Authorized(request)) {
    HttpResponse r = Plain(401, "a bearer token is required\n");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"vendo-admin\"");
    respond(std::move(r));
    return;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = Plain(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET");
    respond(std::move(r));
    return;
  }
  if (path == "/healthz") {
    respond(Plain(200, "ok\n"));
    return;
  }
  if (path == "/metrics") {
    HttpResponse r = Plain(200, metrics_.Scrape());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    respond(std::move(r));
    return;
  }
  if (path == "/readyz") {
    blocking_.Post([this, respond = std::move(respond)] {
      std::string problems = ReadinessProblems(apps_, store_);
      respond(problems.empty() ? Plain(200, "ready\n") : Plain(503, problems));
    });
    return;
  }
  if (path == "/" || path == "/status") {
    // Counting rows and pinging the store may wait on the network: off the network threads.
    blocking_.Post([this, respond = std::move(respond)] {
      StatusData data{
          .version = version_,
          .now = clock_.Now(),
          .uptime = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - started_),
          .store_ok = store_.Ping().has_value(),
          .apps = {},
          .last_hour = metrics_.activity().LastHour(),
          .recent_errors = metrics_.activity().Recent()};
      for (const auto& app : apps_) {
        bool identity = app->config.mode == protocol::legacy::Mode::kIdentity;
        auto devices = store_.CountDevices(app->config.name);
        auto users = identity ? store_.CountUsers(app->config.name) : Result<std::int64_t>(0);
        auto ready = app->issuer->Ready();
        data.apps.push_back({.name = app->config.name,
                             .mode = identity ? "identity" : "anonymous",
                             .issuer = app->config.issuer,
                             .devices = devices ? *devices : -1,
                             .users = users ? *users : -1,
                             .issuer_problem = ready ? "" : ready.error().message});
      }
      HttpResponse r = Html(200, StatusPage(data));
      r.app = "admin";
      respond(std::move(r));
    });
    return;
  }
  respond(Plain(404, "not found\n"));
}

}  // namespace vendo::server
