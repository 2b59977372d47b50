#include "web/v2_routes.h"

#include <boost/json.hpp>
#include <utility>

#include "protocol/validate.h"
#include "web/error_mapping.h"
#include "web/pages.h"
#include "web/route_support.h"
#include "web/v2_answers.h"

namespace vendo::server {
namespace {

using protocol::legacy::Mode;

std::string PathOf(const HttpRequest& request) {
  return request.target.substr(0, request.target.find('?'));
}

V2Failure NotRecorded() { return V2Failure{V2Code::kInternalError, "internal error"}; }

}  // namespace

const App* V2Routes::Find(std::string_view name) const {
  for (const auto& a : apps_) {
    if (a->config.name == name) {
      return a.get();
    }
  }
  return nullptr;
}

void V2Routes::Handle(HttpRequest request, Responder respond) {
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  constexpr std::string_view kPrefix = "/v2/apps/";
  if (!path.starts_with(kPrefix)) {
    respond(V2Fail(V2Code::kNotFound, "no such endpoint"));
    return;
  }
  std::string_view tail = path.substr(kPrefix.size());
  std::string_view name = tail.substr(0, tail.find('/'));
  std::string_view rest = tail.substr(name.size());
  const App* app = Find(name);
  if (app == nullptr) {
    respond(V2Fail(V2Code::kNotFound, "no such app"));
    return;
  }
  if (!request.tls && !app->config.allow_insecure_legacy) {
    respond(V2Fail(V2Code::kInvalidRequest, "HTTPS required", app));
    return;
  }
  if (request.method != "GET" && ForeignOrigin(request, app->config)) {
    (void)parts_.trail.Record(*app, CallerOf(request),
                              {.action = "v2_request", .outcome = "forbidden_origin"});
    respond(V2Fail(V2Code::kForbiddenOrigin, "requests from this web origin are not allowed", app));
    return;
  }
  // A JSON body must say so: browsers send text/plain and form types cross-site without
  // asking, application/json never. The sign-up page's form posts its own type, and is
  // answered by SignUpForm, which checks that it came from this site.
  bool form_sign_up =
      rest == "/users" && IsMediaType(request.content_type, "application/x-www-form-urlencoded");
  if (request.method == "POST" && !form_sign_up &&
      !IsMediaType(request.content_type, "application/json")) {
    respond(V2Fail(V2Code::kUnsupportedMediaType, "send the body as Content-Type: application/json",
                   app));
    return;
  }
  if (app->config.federated &&
      (rest == "/register" || rest == "/devices" || rest == "/users" || rest == "/login")) {
    respond(V2Fail(V2Code::kWrongMode,
                   "a federated app takes ID tokens (POST federate), not registrations", app));
    return;
  }
  if (rest == "/register" && request.method == "GET") {
    if (app->config.mode != Mode::kIdentity) {
      respond(V2Fail(V2Code::kWrongMode, "this app registers devices, not users", app));
      return;
    }
    respond(RegisterPage(
        *app, request,
        {.action = "users", .password_rule = protocol::kV2PasswordRule, .modern = true},
        parts_.random));
    return;
  }
  if (rest == "/devices/self/rotate") {
    if (request.method != "POST") {
      respond(V2Fail(V2Code::kNotFound, "rotate takes POST", app));
      return;
    }
    Rotate(*app, std::move(request), std::move(respond));
    return;
  }
  if (rest == "/devices/self") {
    if (request.method != "DELETE") {
      respond(V2Fail(V2Code::kNotFound, "revoke with DELETE", app));
      return;
    }
    Revoke(*app, std::move(request), std::move(respond));
    return;
  }
  if (request.method != "POST") {
    respond(V2Fail(V2Code::kNotFound, "v2 endpoints take POST", app));
    return;
  }
  if (rest == "/devices") {
    RegisterDevice(*app, std::move(request), std::move(respond));
  } else if (rest == "/token") {
    Token(*app, std::move(request), std::move(respond));
  } else if (rest == "/users") {
    SignUp(*app, std::move(request), std::move(respond));
  } else if (rest == "/login") {
    Login(*app, std::move(request), std::move(respond));
  } else if (rest == "/federate") {
    federate_.Handle(*app, std::move(request), std::move(respond));
  } else {
    respond(V2Fail(V2Code::kNotFound, "no such endpoint", app));
  }
}

void V2Routes::Rotate(const App& app, HttpRequest request, Responder respond) {
  // Writes the nonce, then the new key.
  parts_.blocking.Post([this, &app, request = std::move(request), respond = std::move(respond)] {
    Undo undo;
    auto rotated = v2_.RotateSecret(app, request.method, PathOf(request), request.body,
                                    request.authorization, &undo);
    if (auto audited = parts_.trail.RecordChange(
            app, CallerOf(request),
            {.action = "rotate_device_secret",
             .outcome = rotated ? std::string_view("ok") : V2CodeName(rotated.error().code),
             .device = rotated ? std::string_view(rotated->device_id) : std::string_view()},
            undo);
        !audited) {
      rotated = std::unexpected(NotRecorded());
    }
    if (!rotated) {
      respond(V2Failed(app, rotated.error()));
      return;
    }
    respond(
        V2Json(app, 200,
               boost::json::serialize(boost::json::object{
                   {"device_id", rotated->device_id}, {"device_secret", rotated->device_secret}})));
  });
}

void V2Routes::Revoke(const App& app, HttpRequest request, Responder respond) {
  parts_.blocking.Post([this, &app, request = std::move(request), respond = std::move(respond)] {
    // A revocation cannot be taken back: its line is written before it is done.
    auto revoked =
        v2_.RevokeSelf(app, request.method, PathOf(request), request.body, request.authorization,
                       [&](std::string_view device) -> Status {
                         VENDO_RETURN_IF_ERROR(parts_.trail.Record(
                             app, CallerOf(request),
                             {.action = "revoke_device", .outcome = "ok", .device = device}));
                         return {};
                       });
    if (!revoked) {  // refused before the line above, or failed after it
      (void)parts_.trail.Record(
          app, CallerOf(request),
          {.action = "revoke_device", .outcome = V2CodeName(revoked.error().code)});
      respond(V2Failed(app, revoked.error()));
      return;
    }
    respond(V2Json(app, 204, ""));
  });
}

void V2Routes::RegisterDevice(const App& app, HttpRequest request, Responder respond) {
  parts_.blocking.Post([this, &app, request = std::move(request), respond = std::move(respond)] {
    auto limited = parts_.limiter.Registration(app.config.name, request.client, app.config.limits);
    V2Result<V2Registration> reg = std::unexpected(NotRecorded());
    Undo undo;
    if (!limited) {
      reg = std::unexpected(V2LimitFailure(limited.error(), "too many registrations"));
    } else {
      reg = v2_.RegisterDevice(app, &undo);
    }
    if (auto audited = parts_.trail.RecordChange(
            app, CallerOf(request),
            {.action = "register_device",
             .outcome = reg ? std::string_view("ok") : V2CodeName(reg.error().code),
             .device = reg ? std::string_view(reg->device_id) : std::string_view()},
            undo);
        !audited) {
      reg = std::unexpected(NotRecorded());
    }
    if (!reg) {
      respond(V2Failed(app, reg.error()));
      return;
    }
    respond(V2Json(app, 201,
                   boost::json::serialize(boost::json::object{
                       {"device_id", reg->device_id}, {"device_secret", reg->device_secret}})));
  });
}

void V2Routes::SignUp(const App& app, HttpRequest request, Responder respond) {
  parts_.blocking.Post([this, &app, request = std::move(request), respond = std::move(respond)] {
    // The page's form posts here too (Handle let only it through without JSON).
    if (!IsMediaType(request.content_type, "application/json")) {
      respond(SignUpForm(app, request));
      return;
    }
    auto limited = parts_.limiter.Registration(app.config.name, request.client, app.config.limits);
    Undo undo;
    V2Result<std::string> user_id =
        limited ? v2_.SignUp(app, request.body, &undo)
                : std::unexpected(V2LimitFailure(limited.error(), "too many registrations"));
    if (auto audited = parts_.trail.RecordChange(
            app, CallerOf(request),
            {.action = "register_user",
             .outcome = user_id ? std::string_view("ok") : V2CodeName(user_id.error().code)},
            undo);
        !audited) {
      user_id = std::unexpected(NotRecorded());
    }
    if (!user_id) {
      respond(V2Failed(app, user_id.error()));
      return;
    }
    respond(V2Json(app, 201, boost::json::serialize(boost::json::object{{"user_id", *user_id}})));
  });
}

void V2Routes::Login(const App& app, HttpRequest request, Responder respond) {
  parts_.blocking.Post([this, &app, request = std::move(request), respond = std::move(respond)] {
    std::string username;
    Undo undo;
    LoginAttempt attempt(parts_.limiter, app, request.client);
    auto result = v2_.Login(
        app, request.body, username, [&](std::string_view name) { return attempt.Start(name); },
        &undo);
    using Outcome = LoginAttempt::Outcome;
    attempt.Finish(result                                               ? Outcome::kSucceeded
                   : result.error().code == V2Code::kInvalidCredentials ? Outcome::kWrongPassword
                                                                        : Outcome::kNotChecked);
    if (auto audited = parts_.trail.RecordChange(
            app, CallerOf(request),
            {.action = "login",
             .outcome = result ? std::string_view("ok") : V2CodeName(result.error().code),
             .device = result ? std::string_view(result->device_id) : std::string_view(),
             .user = username},
            undo);
        !audited) {
      result = std::unexpected(NotRecorded());
    }
    if (!result) {
      respond(V2Failed(app, result.error()));
      return;
    }
    respond(
        V2Json(app, 200,
               boost::json::serialize(boost::json::object{{"device_id", result->device_id},
                                                          {"device_secret", result->device_secret},
                                                          {"user_id", result->user_id}})));
  });
}

HttpResponse V2Routes::SignUpForm(const App& app, const HttpRequest& request) {
  // The page at /v2/apps/NAME/register posts here: the same checks as the JSON sign-up,
  // answered with the page again (the error above the form, the username kept) or a
  // success page.
  auto params = ParamsOf(request);
  if (params && CrossSite(request, *params)) {
    (void)parts_.trail.Record(app, CallerOf(request),
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
                        parts_.random, status);
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
  if (auto limited =
          parts_.limiter.Registration(app.config.name, request.client, app.config.limits);
      !limited) {
    user_id = std::unexpected(V2LimitFailure(limited.error(), "too many registrations"));
  } else {
    SecretString body(boost::json::serialize(
        boost::json::object{{"username", *username}, {"password", *password}}));
    user_id = v2_.SignUp(app, body.Reveal(), &undo);
  }
  if (auto audited = parts_.trail.RecordChange(
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

void V2Routes::Token(const App& app, HttpRequest request, Responder respond) {
  // Checking the nonce writes to the store: off the network threads. Mutable: `respond` moves
  // on into the vend.
  parts_.blocking.Post([this, &app, request = std::move(request),
                        respond = std::move(respond)]() mutable {
    std::string path = request.target.substr(0, request.target.find('?'));
    auto grant = v2_.AuthorizeToken(app, request.method, path, request.body, request.authorization);
    if (!grant) {
      parts_.vend.Refused(app, CallerOf(request), V2CodeName(grant.error().code));
      HttpResponse r = V2ErrorResponse(grant.error(), v2_.ServerTime());
      r.app = app.config.name;
      respond(std::move(r));
      return;
    }
    parts_.vend.Run(app, CallerOf(request), std::move(grant->request),
                    V2CredentialsSealer(v2_, app, std::move(grant->answer)),
                    V2VendAnswer(app, std::move(respond)));
  });
}

}  // namespace vendo::server
