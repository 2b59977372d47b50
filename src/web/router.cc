#include "web/router.h"

#include <algorithm>
#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/log.h"
#include "common/secret.h"
#include "crypto/hmac.h"
#include "protocol/timestamp.h"
#include "web/error_mapping.h"
#include "web/pages.h"

namespace vendo::server {
namespace {

using protocol::legacy::Mode;

// HSTS on pages served over TLS: browsers then refuse plain HTTP to this host for a year.
HttpResponse Secure(HttpResponse r, const HttpRequest& request) {
  if (request.tls) {
    r.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
  }
  return r;
}

// The host part of an Origin or Referer URL ("https://tvm.example.com:8443/x" ->
// "tvm.example.com:8443").
std::string_view UrlHost(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return {};
  }
  url.remove_prefix(scheme + 3);
  return url.substr(0, url.find('/'));
}

// The value of cookie `name` in a Cookie header, or "".
std::string_view CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') {
      pair.remove_prefix(1);
    }
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
  }
  return {};
}

constexpr std::string_view kCsrfCookie = "vendo_csrf";

// A cross-site request forgery check for /registeruser. Browsers name the page a request
// came from (Origin, or at least Referer): it must be this host. A browser that loaded the
// form also holds the form's token in a SameSite cookie, and must send it back in the form.
// Apps that POST directly (no Origin, Referer or cookie: the 2012 clients) are not browsers
// and pass.
bool CrossSite(const HttpRequest& request, const Params& params) {
  std::string_view from = !request.origin.empty() ? request.origin : request.referer;
  if (!from.empty() && (from == "null" || UrlHost(from) != request.host)) {
    return true;
  }
  std::string_view cookie = CookieValue(request.cookie, kCsrfCookie);
  auto field = params.Get("csrf");
  if (cookie.empty() && !field) {
    return false;
  }
  return cookie.empty() || !field || !crypto::ConstantTimeEquals(cookie, *field);
}

// A v2 call from a web page of another site: its browser sends that site's Origin. Apps list
// the sites whose pages may call them; any other is refused, so that a hostile page cannot
// sign users up, register devices or guess passwords from its visitors' browsers.
bool ForeignOrigin(const HttpRequest& request, const AppConfig& app) {
  if (request.origin.empty()) {
    return false;  // not a browser's cross-site call (apps and tools send no Origin)
  }
  if (request.origin != "null" && UrlHost(request.origin) == request.host) {
    return false;
  }
  return std::find(app.allowed_origins.begin(), app.allowed_origins.end(), request.origin) ==
         app.allowed_origins.end();
}

// The media type of a Content-Type value, without parameters or case.
bool IsMediaType(std::string_view content_type, std::string_view type) {
  std::string_view base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && (base.back() == ' ' || base.back() == '\t')) {
    base.remove_suffix(1);
  }
  return EqualsIgnoreCase(base, type);
}

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

void LogFailure(const HttpRequest& req, const App& app, const Error& e) {
  if (e.code == ErrorCode::kInternal || e.code == ErrorCode::kUnavailable ||
      e.code == ErrorCode::kFailedPrecondition || e.code == ErrorCode::kDeadlineExceeded) {
    LogLine(LogLevel::kWarn, "request failed")
        .Str("request_id", req.request_id)
        .Str("app", app.config.name)
        .Str("code", ErrorCodeName(e.code))
        .Str("error", e.message)
        .Emit();
  }
}

Result<Params> ParamsOf(const HttpRequest& request) {
  std::string_view target = request.target;
  auto q = target.find('?');
  return Params::Parse(q == std::string_view::npos ? "" : target.substr(q + 1), request.body,
                       request.content_type);
}

HttpResponse WithApp(HttpResponse r, const App& app) {
  r.app = app.config.name;
  return r;
}

// Logs what went wrong (when it is worth an operator's attention) and answers with the 2012
// status and body for it. A store that is down answers 500, as clients expect.
Caller CallerOf(const HttpRequest& request) { return {request.request_id, request.client}; }

void RespondLegacyError(const HttpRequest& request, const App& app, const Error& error,
                        const Responder& respond) {
  LogFailure(request, app, error);
  respond(WithApp(LegacyErrorResponse(error.code), app));
}

}  // namespace

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

HttpResponse Router::RegisterPage(const App& app, const HttpRequest& request,
                                  pages::RegisterForm form, int status) {
  // A fresh token for the form, in the page and in a cookie only this site can read.
  std::string token = token_random_.Hex(16);
  form.app_display = app.display_name;
  form.tls = request.tls;
  form.csrf_token = token;
  HttpResponse page = Html(status, pages::Register(form));
  if (form.modern) {
    for (auto& [name, value] : page.headers) {
      if (name == "Content-Security-Policy") {
        value = std::string(pages::ModernRegisterCsp());
      }
    }
  }
  page.headers.emplace_back("Set-Cookie", std::string(kCsrfCookie) + "=" + token +
                                              "; Path=/; HttpOnly; SameSite=Strict" +
                                              (request.tls ? "; Secure" : ""));
  return WithApp(Secure(std::move(page), request), app);
}

bool Router::Matches(std::string_view rest, std::string_view endpoint) {
  return rest == endpoint || (rest.starts_with(endpoint) && rest.size() > endpoint.size() &&
                              rest[endpoint.size()] == '/');
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
    HandleV2(std::move(request), std::move(respond));
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
  bool identity = app->config.mode == Mode::kIdentity;
  std::optional<Endpoint> endpoint;
  if (rest.empty() || rest == "/") {
    endpoint = Endpoint::kHome;
  } else if (Matches(rest, "/gettoken")) {
    endpoint = Endpoint::kGetToken;
  } else if (!identity && Matches(rest, "/registerdevice")) {
    endpoint = Endpoint::kRegisterDevice;
  } else if (identity && Matches(rest, "/login")) {
    endpoint = Endpoint::kLogin;
  } else if (identity && Matches(rest, "/registeruser")) {
    endpoint = Endpoint::kRegisterUser;
  } else if (identity && rest == "/register.jsp") {
    endpoint = Endpoint::kRegisterPage;
  }
  if (!endpoint) {
    respond(WithApp(Text(404, "not found\n"), *app));
    return;
  }
  if (*endpoint != Endpoint::kHome && !request.tls && !app->config.allow_insecure_legacy) {
    // Keys, passwords and signatures travel in these requests: not over plain HTTP.
    respond(WithApp(Text(403, "HTTPS required\n"), *app));
    return;
  }
  Dispatch(*app, *endpoint, std::move(request), std::move(respond));
}

void Router::Dispatch(const App& app, Endpoint endpoint, HttpRequest request, Responder respond) {
  switch (endpoint) {
    case Endpoint::kHome:
      respond(WithApp(
          Secure(Html(200, pages::Home(app.display_name, app.config.mode == Mode::kIdentity)),
                 request),
          app));
      return;
    case Endpoint::kRegisterPage:
      respond(
          RegisterPage(app, request,
                       {.action = "registeruser", .password_rule = protocol::kLegacyPasswordRule}));
      return;
    case Endpoint::kGetToken:
      GetToken(app, std::move(request), std::move(respond), /*may_block=*/false);
      return;
    case Endpoint::kRegisterUser:
      RegisterUser(app, request, std::move(respond));
      return;
    case Endpoint::kRegisterDevice:
    case Endpoint::kLogin:
      break;
  }
  // Store writes block (group commit waits for fsync): run them off the network threads.
  blocking_.Post([this, &app, endpoint, request = std::move(request),
                  respond = std::move(respond)]() mutable {
    auto params = ParamsOf(request);
    if (!params) {
      respond(WithApp(LegacyErrorResponse(params.error().code), app));
      return;
    }
    std::string uid(params->Get("uid").value_or(""));
    if (endpoint == Endpoint::kRegisterDevice) {
      auto st = limiter_.Registration(app.config.name, request.client, app.config.limits);
      Undo undo;
      if (st) {
        st = service_.RegisterDevice(app, *params, &undo);
      }
      if (auto audited = trail_.RecordChange(app, CallerOf(request),
                                             {.action = "register_device",
                                              .outcome = AuditOutcome(st ? nullptr : &st.error()),
                                              .device = uid},
                                             undo);
          !audited) {
        st = audited;  // not recorded, so not registered
      }
      if (!st) {
        RespondLegacyError(request, app, st.error(), respond);
        return;
      }
      respond(WithApp(LegacyOk("", true), app));
      return;
    }
    std::string username(params->Get("username").value_or(""));
    Result<std::string> body = std::unexpected(Error{ErrorCode::kInternal, "not attempted"});
    Undo undo;
    bool counted = false;  // StartLogin counted this attempt as a failure
    bool last = false;     // and it is the last before the user's lock
    if (auto allowed =
            limiter_.StartLogin(app.config.name, username, request.client, app.config.limits);
        !allowed) {
      body = std::unexpected(allowed.error());
    } else {
      counted = true;
      last = *allowed;
      body = service_.Login(app, *params, &undo);
    }
    if (counted && !body && body.error().code == ErrorCode::kUnauthenticated) {
      limiter_.LoginFailed(app.config.name, username, last);
    } else if (counted && body) {
      limiter_.LoginSucceeded(app.config.name, username, request.client, app.config.limits);
    } else if (counted && body.error().code != ErrorCode::kUnauthenticated) {
      limiter_.LoginNotFailed(app.config.name, username, request.client, app.config.limits);
    }
    if (!body && body.error().code == ErrorCode::kResourceExhausted) {
      // Locked out: the 2012 clients handle 401 as a failed login.
      (void)trail_.Record(
          app, CallerOf(request),
          {.action = "login", .outcome = "locked", .device = uid, .user = username});
      RespondLegacyError(request, app, Error{ErrorCode::kUnauthenticated, "locked"}, respond);
      return;
    }
    if (auto audited = trail_.RecordChange(app, CallerOf(request),
                                           {.action = "login",
                                            .outcome = AuditOutcome(body ? nullptr : &body.error()),
                                            .device = uid,
                                            .user = params->Get("username").value_or("")},
                                           undo);
        !audited) {
      body = std::unexpected(audited.error());  // the new key is taken back: no login
    }
    if (!body) {
      RespondLegacyError(request, app, body.error(), respond);
      return;
    }
    respond(WithApp(LegacyOk(std::move(*body)), app));
  });
}

void Router::GetToken(const App& app, HttpRequest request, Responder respond, bool may_block) {
  auto params = ParamsOf(request);
  if (!params) {
    respond(WithApp(LegacyErrorResponse(params.error().code), app));
    return;
  }
  // A device whose records are in memory is served on the network thread; any other goes
  // where a store read may wait (a network thread never waits on the store).
  auto ask_elsewhere = [&] {
    blocking_.Post([this, &app, request = std::move(request), respond = std::move(respond)] {
      GetToken(app, request, respond, /*may_block=*/true);
    });
  };
  if (!may_block && memory_ == nullptr) {
    ask_elsewhere();
    return;
  }
  auto grant = service_.AuthorizeToken(app, *params, may_block ? store_ : *memory_);
  if (!grant && grant.error().code == ErrorCode::kWouldBlock) {
    ask_elsewhere();
    return;
  }
  if (!grant) {
    vend_.Refused(app, CallerOf(request), AuditOutcome(&grant.error()),
                  params->Get("uid").value_or(""));
    RespondLegacyError(request, app, grant.error(), respond);
    return;
  }
  // Only the device key stays here, to wrap the answer; the request goes to the issuer.
  auto seal = [this, key = std::make_shared<SecretString>(std::move(grant->device_key))](
                  const Credentials& creds) { return service_.SealToken(*key, creds); };
  vend_.Run(
      app, CallerOf(request), std::move(grant->request), std::move(seal),
      [&app, request_id = request.request_id, respond = std::move(respond)](VendResult vended) {
        if (vended) {
          respond(WithApp(LegacyOk(std::move(*vended)), app));
          return;
        }
        // A limit is the 2012 refusal its clients know; every other failure is a 500
        // (never credentials the audit log does not show).
        const Error& error = vended.error().error;
        respond(WithApp(
            LegacyErrorResponse(vended.error().step == VendStep::kLimit ? error.code
                                                                        : ErrorCode::kInternal),
            app));
      });
}

void Router::RegisterUser(const App& app, const HttpRequest& request, Responder respond) {
  blocking_.Post([this, &app, request, respond = std::move(respond)] {
    auto params = ParamsOf(request);
    if (params && CrossSite(request, *params)) {
      (void)trail_.Record(app, CallerOf(request),
                          {.action = "register_user", .outcome = "cross_site_request"});
      respond(WithApp(
          Html(403, pages::Failure(app.display_name, "The form must be sent from this site.")),
          app));
      return;
    }
    if (!params || LegacyService::MissingUserParams(*params)) {
      respond(WithApp(Html(400, pages::MissingParameters(app.display_name)), app));
      return;
    }
    auto st = limiter_.Registration(app.config.name, request.client, app.config.limits);
    if (!st) {
      (void)trail_.Record(app, CallerOf(request),
                          {.action = "register_user", .outcome = AuditOutcome(&st.error())});
      HttpResponse busy = Html(429, pages::Failure(app.display_name,
                                                   "Too many registrations from your address. "
                                                   "Please try again later."));
      busy.headers.emplace_back("Retry-After", std::to_string(st.error().retry_after.count()));
      respond(WithApp(std::move(busy), app));
      return;
    }
    Undo undo;
    st = service_.RegisterUser(app, *params, &undo);
    if (auto audited = trail_.RecordChange(app, CallerOf(request),
                                           {.action = "register_user",
                                            .outcome = AuditOutcome(st ? nullptr : &st.error()),
                                            .user = params->Get("username").value_or("")},
                                           undo);
        !audited) {
      st = audited;
    }
    if (st) {
      respond(
          WithApp(Html(200, pages::Success(app.display_name, *params->Required("username"))), app));
      return;
    }
    switch (st.error().code) {
      case ErrorCode::kInvalidArgument:
        respond(WithApp(Html(400, pages::Failure(app.display_name, st.error().message)), app));
        return;
      case ErrorCode::kAlreadyExists:
        respond(WithApp(
            Html(406, pages::Failure(app.display_name, "That username is already taken.")), app));
        return;
      default:
        LogFailure(request, app, st.error());
        respond(WithApp(Html(500, pages::ServerError(app.display_name)), app));
    }
  });
}

void Router::HandleV2(HttpRequest request, Responder respond) {
  auto fail = [&respond](V2Code code, std::string message, const App* app = nullptr) {
    HttpResponse r = V2ErrorResponse({code, std::move(message)}, "");
    if (app != nullptr) {
      r.app = app->config.name;
    }
    respond(std::move(r));
  };
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  constexpr std::string_view kPrefix = "/v2/apps/";
  if (!path.starts_with(kPrefix)) {
    fail(V2Code::kNotFound, "no such endpoint");
    return;
  }
  std::string_view tail = path.substr(kPrefix.size());
  std::string_view name = tail.substr(0, tail.find('/'));
  std::string_view rest = tail.substr(name.size());
  const App* app = nullptr;
  for (const auto& a : apps_) {
    if (a->config.name == name) {
      app = a.get();
    }
  }
  if (app == nullptr) {
    fail(V2Code::kNotFound, "no such app");
    return;
  }
  if (!request.tls && !app->config.allow_insecure_legacy) {
    fail(V2Code::kInvalidRequest, "HTTPS required", app);
    return;
  }
  if (request.method != "GET" && ForeignOrigin(request, app->config)) {
    (void)trail_.Record(*app, CallerOf(request),
                        {.action = "v2_request", .outcome = "forbidden_origin"});
    fail(V2Code::kForbiddenOrigin, "requests from this web origin are not allowed", app);
    return;
  }
  // A JSON body must say so: browsers send text/plain and form types cross-site without
  // asking, application/json never. The sign-up page's form posts its own type, and is
  // answered by V2SignUpForm, which checks that it came from this site.
  bool form_sign_up =
      rest == "/users" && IsMediaType(request.content_type, "application/x-www-form-urlencoded");
  if (request.method == "POST" && !form_sign_up &&
      !IsMediaType(request.content_type, "application/json")) {
    fail(V2Code::kUnsupportedMediaType, "send the body as Content-Type: application/json", app);
    return;
  }
  if (rest == "/register" && request.method == "GET") {
    if (app->config.mode != Mode::kIdentity) {
      fail(V2Code::kWrongMode, "this app registers devices, not users", app);
      return;
    }
    respond(RegisterPage(
        *app, request,
        {.action = "users", .password_rule = protocol::kV2PasswordRule, .modern = true}));
    return;
  }
  if (rest == "/devices/self" || rest == "/devices/self/rotate") {
    bool rotate = rest == "/devices/self/rotate";
    if (request.method != (rotate ? "POST" : "DELETE")) {
      fail(V2Code::kNotFound, rotate ? "rotate takes POST" : "revoke with DELETE", app);
      return;
    }
    // Both write to the store (the nonce, then the key or the revocation).
    blocking_.Post([this, app, rotate, request = std::move(request), respond = std::move(respond)] {
      std::string path = request.target.substr(0, request.target.find('?'));
      HttpResponse r;
      r.app = app->config.name;
      r.content_type = "application/json";
      if (rotate) {
        Undo undo;
        auto rotated = v2_.RotateSecret(*app, request.method, path, request.body,
                                        request.authorization, &undo);
        if (auto audited = trail_.RecordChange(
                *app, CallerOf(request),
                {.action = "rotate_device_secret",
                 .outcome = rotated ? std::string_view("ok") : V2CodeName(rotated.error().code),
                 .device = rotated ? std::string_view(rotated->device_id) : std::string_view()},
                undo);
            !audited) {
          rotated = std::unexpected(V2Failure{V2Code::kInternalError, "internal error"});
        }
        if (rotated) {
          r.body = boost::json::serialize(boost::json::object{
              {"device_id", rotated->device_id}, {"device_secret", rotated->device_secret}});
        } else {
          r = V2ErrorResponse(rotated.error(), "");
          r.app = app->config.name;
        }
      } else {
        // A revocation cannot be taken back: its line is written before it is done.
        auto revoked =
            v2_.RevokeSelf(*app, request.method, path, request.body, request.authorization,
                           [&](std::string_view device) -> Status {
                             VENDO_RETURN_IF_ERROR(trail_.Record(
                                 *app, CallerOf(request),
                                 {.action = "revoke_device", .outcome = "ok", .device = device}));
                             return {};
                           });
        if (!revoked) {  // refused before the line above, or failed after it
          (void)trail_.Record(
              *app, CallerOf(request),
              {.action = "revoke_device", .outcome = V2CodeName(revoked.error().code)});
        }
        if (revoked) {
          r.status = 204;
        } else {
          r = V2ErrorResponse(revoked.error(), "");
          r.app = app->config.name;
        }
      }
      respond(std::move(r));
    });
    return;
  }
  if (request.method != "POST") {
    fail(V2Code::kNotFound, "v2 endpoints take POST", app);
    return;
  }
  if (rest == "/devices") {
    blocking_.Post([this, app, request = std::move(request), respond = std::move(respond)] {
      auto limited = limiter_.Registration(app->config.name, request.client, app->config.limits);
      V2Result<V2Registration> reg = std::unexpected(V2Failure{V2Code::kInternalError, ""});
      Undo undo;
      if (!limited) {
        reg = std::unexpected(V2Failure{V2Code::kRateLimited, "too many registrations", 0,
                                        limited.error().retry_after.count()});
      } else {
        reg = v2_.RegisterDevice(*app, &undo);
      }
      if (auto audited = trail_.RecordChange(
              *app, CallerOf(request),
              {.action = "register_device",
               .outcome = reg ? std::string_view("ok") : V2CodeName(reg.error().code),
               .device = reg ? std::string_view(reg->device_id) : std::string_view()},
              undo);
          !audited) {
        reg = std::unexpected(V2Failure{V2Code::kInternalError, "internal error"});
      }
      if (!reg) {
        HttpResponse r = V2ErrorResponse(reg.error(), "");
        r.app = app->config.name;
        respond(std::move(r));
        return;
      }
      HttpResponse r;
      r.status = 201;
      r.content_type = "application/json";
      r.body = boost::json::serialize(boost::json::object{{"device_id", reg->device_id},
                                                          {"device_secret", reg->device_secret}});
      r.app = app->config.name;
      respond(std::move(r));
    });
    return;
  }
  if (rest == "/token") {
    V2Token(*app, std::move(request), std::move(respond));
    return;
  }
  if (rest == "/users" || rest == "/login") {
    bool login = rest == "/login";
    blocking_.Post([this, app, login, request = std::move(request), respond = std::move(respond)] {
      HttpResponse r;
      r.content_type = "application/json";
      r.app = app->config.name;
      // The page's form posts here too (HandleV2 let only it through without JSON).
      if (!login && !IsMediaType(request.content_type, "application/json")) {
        respond(V2SignUpForm(*app, request));
        return;
      }
      if (!login) {
        auto limited = limiter_.Registration(app->config.name, request.client, app->config.limits);
        Undo undo;
        V2Result<std::string> user_id =
            limited ? v2_.SignUp(*app, request.body, &undo)
                    : std::unexpected(V2Failure{V2Code::kRateLimited, "too many registrations", 0,
                                                limited.error().retry_after.count()});
        if (auto audited = trail_.RecordChange(
                *app, CallerOf(request),
                {.action = "register_user",
                 .outcome = user_id ? std::string_view("ok") : V2CodeName(user_id.error().code)},
                undo);
            !audited) {
          user_id = std::unexpected(V2Failure{V2Code::kInternalError, "internal error"});
        }
        if (!user_id) {
          r = V2ErrorResponse(user_id.error(), "");
          r.app = app->config.name;
        } else {
          r.status = 201;
          r.body = boost::json::serialize(boost::json::object{{"user_id", *user_id}});
        }
        respond(std::move(r));
        return;
      }
      std::string username;
      Undo undo;
      bool counted = false;  // StartLogin counted this attempt as a failure
      bool last = false;     // and it is the last before the user's lock
      auto result = v2_.Login(
          *app, request.body, username,
          [&](std::string_view name) -> Status {
            auto started =
                limiter_.StartLogin(app->config.name, name, request.client, app->config.limits);
            if (!started) {
              return std::unexpected(started.error());
            }
            counted = true;
            last = *started;
            return {};
          },
          &undo);
      if (counted && !result && result.error().code == V2Code::kInvalidCredentials) {
        limiter_.LoginFailed(app->config.name, username, last);
      } else if (counted && result) {
        limiter_.LoginSucceeded(app->config.name, username, request.client, app->config.limits);
      } else if (counted && result.error().code != V2Code::kInvalidCredentials) {
        limiter_.LoginNotFailed(app->config.name, username, request.client, app->config.limits);
      }
      if (auto audited = trail_.RecordChange(
              *app, CallerOf(request),
              {.action = "login",
               .outcome = result ? std::string_view("ok") : V2CodeName(result.error().code),
               .device = result ? std::string_view(result->device_id) : std::string_view(),
               .user = username},
              undo);
          !audited) {
        result = std::unexpected(V2Failure{V2Code::kInternalError, "internal error"});
      }
      if (!result) {
        r = V2ErrorResponse(result.error(), "");
        r.app = app->config.name;
      } else {
        r.body =
            boost::json::serialize(boost::json::object{{"device_id", result->device_id},
                                                       {"device_secret", result->device_secret},
                                                       {"user_id", result->user_id}});
      }
      respond(std::move(r));
    });
    return;
  }
  fail(V2Code::kNotFound, "no such endpoint", app);
}

HttpResponse Router::V2SignUpForm(const App& app, const HttpRequest& request) {
  // The page at /v2/apps/NAME/register posts here: the same checks as the JSON sign-up,
  // answered with the page again (the error above the form, the username kept) or a
  // success page.
  auto params = ParamsOf(request);
  if (params && CrossSite(request, *params)) {
    (void)trail_.Record(app, CallerOf(request),
                        {.action = "register_user", .outcome = "cross_site_request"});
    return WithApp(Html(403, pages::Failure(app.display_name,
                                            "The form must be sent from this site.", "register")),
                   app);
  }
  auto username = params ? params->Get("username") : std::nullopt;
  auto password = params ? params->Get("password") : std::nullopt;
  auto again = [&](int status, std::string_view error) {
    return RegisterPage(app, request,
                        {.action = "users",
                         .password_rule = protocol::kV2PasswordRule,
                         .modern = true,
                         .error = error,
                         .username = username.value_or("")},
                        status);
  };
  if (!username || !password || username->empty() || password->empty()) {
    return again(400, "Please enter both a username and a password.");
  }
  if (auto confirm = params->Get("confirm"); confirm && *confirm != *password) {
    return again(400, "The passwords do not match.");
  }
  // The same rules SignUp applies, checked here so the page can say which one failed.
  if (!protocol::IsValidUsername(*username)) {
    return again(400, "The username must be " + std::string(protocol::kUsernameRule.hint) + ".");
  }
  if (!protocol::IsValidV2Password(*password)) {
    return again(400, "The password must be " + std::string(protocol::kV2PasswordRule.hint) + ".");
  }
  V2Result<std::string> user_id;
  Undo undo;
  if (auto limited = limiter_.Registration(app.config.name, request.client, app.config.limits);
      !limited) {
    user_id = std::unexpected(V2Failure{V2Code::kRateLimited, "too many registrations", 0,
                                        limited.error().retry_after.count()});
  } else {
    SecretString body(boost::json::serialize(
        boost::json::object{{"username", *username}, {"password", *password}}));
    user_id = v2_.SignUp(app, body.Reveal(), &undo);
  }
  if (auto audited = trail_.RecordChange(
          app, CallerOf(request),
          {.action = "register_user",
           .outcome = user_id ? std::string_view("ok") : V2CodeName(user_id.error().code),
           .user = *username},
          undo);
      !audited) {
    user_id = std::unexpected(V2Failure{V2Code::kInternalError, "internal error"});
  }
  if (user_id) {
    return WithApp(Html(200, pages::Success(app.display_name, *username)), app);
  }
  const V2Failure& failure = user_id.error();
  switch (failure.code) {
    case V2Code::kUsernameTaken:
      return again(409, "That username is already taken. Please choose another.");
    case V2Code::kRateLimited: {
      HttpResponse busy =
          again(429, "Too many registrations from your address. Please try again later.");
      busy.headers.emplace_back("Retry-After", std::to_string(failure.retry_after));
      return busy;
    }
    case V2Code::kServerBusy: {
      HttpResponse busy = again(503, "The service is busy. Please try again in a moment.");
      busy.headers.emplace_back("Retry-After", std::to_string(failure.retry_after));
      return busy;
    }
    default:
      return WithApp(Html(500, pages::ServerError(app.display_name)), app);
  }
}

void Router::V2Token(const App& app, HttpRequest request, Responder respond) {
  // Checking the nonce writes to the store: off the network threads.
  blocking_.Post([this, &app, request = std::move(request), respond = std::move(respond)] {
    std::string path = request.target.substr(0, request.target.find('?'));
    auto grant = v2_.AuthorizeToken(app, request.method, path, request.body, request.authorization);
    if (!grant) {
      vend_.Refused(app, CallerOf(request), V2CodeName(grant.error().code));
      HttpResponse r =
          V2ErrorResponse(grant.error(), protocol::IsoSeconds(std::chrono::system_clock::now()));
      r.app = app.config.name;
      respond(std::move(r));
      return;
    }
    auto seal = [this, &app, key = std::make_shared<V2SealKey>(std::move(grant->answer))](
                    const Credentials& creds) -> Result<std::string> {
      auto body = v2_.CredentialsBody(*key, creds, app.config.aws.region);
      if (!body) {
        return Fail(ErrorCode::kInternal, body.error().message);
      }
      return std::move(*body);
    };
    vend_.Run(app, CallerOf(request), std::move(grant->request), std::move(seal),
              [&app, respond = std::move(respond)](VendResult vended) {
                HttpResponse r;
                if (vended) {
                  r.content_type = "application/json";
                  r.body = std::move(*vended);
                } else {
                  r = V2ErrorResponse(V2VendFailure(vended.error()), "");
                }
                r.app = app.config.name;
                respond(std::move(r));
              });
  });
}

}  // namespace vendo::server
