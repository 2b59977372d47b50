#include "web/legacy_routes.h"

#include <memory>
#include <utility>

#include "protocol/validate.h"
#include "web/error_mapping.h"
#include "web/pages.h"
#include "web/route_support.h"

namespace vendo::server {

using protocol::legacy::Mode;

bool LegacyRoutes::Matches(std::string_view rest, std::string_view endpoint) {
  return rest == endpoint || (rest.starts_with(endpoint) && rest.size() > endpoint.size() &&
                              rest[endpoint.size()] == '/');
}

void LegacyRoutes::Handle(const App& app, std::string_view rest, HttpRequest request,
                          Responder respond) {
  bool identity = app.config.mode == Mode::kIdentity;
  enum class Endpoint { kHome, kGetToken, kRegisterDevice, kLogin, kRegisterUser, kPage, kNone };
  Endpoint endpoint = Endpoint::kNone;
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
    endpoint = Endpoint::kPage;
  }
  if (endpoint == Endpoint::kNone || (app.config.federated && endpoint != Endpoint::kHome)) {
    // A federated app serves no 2012 endpoint: its devices come with ID tokens, over v2.
    respond(WithApp(Text(404, "not found\n"), app));
    return;
  }
  if (endpoint != Endpoint::kHome && !request.tls && !app.config.allow_insecure_legacy) {
    // Keys, passwords and signatures travel in these requests: not over plain HTTP.
    respond(WithApp(Text(403, "HTTPS required\n"), app));
    return;
  }
  switch (endpoint) {
    case Endpoint::kHome:
      respond(WithApp(Secure(Html(200, pages::Home(app.display_name, identity)), request), app));
      return;
    case Endpoint::kGetToken:
      GetToken(app, std::move(request), std::move(respond), /*may_block=*/false);
      return;
    case Endpoint::kRegisterDevice:
      RegisterDevice(app, std::move(request), std::move(respond));
      return;
    case Endpoint::kLogin:
      Login(app, std::move(request), std::move(respond));
      return;
    case Endpoint::kRegisterUser:
      RegisterUser(app, request, std::move(respond));
      return;
    case Endpoint::kPage:
      respond(RegisterPage(
          app, request, {.action = "registeruser", .password_rule = protocol::kLegacyPasswordRule},
          parts_.random));
      return;
    case Endpoint::kNone:
      return;
  }
}

void LegacyRoutes::OnBlocking(const App& app, HttpRequest request, Responder respond,
                              ParamsStep step) {
  // Store writes block (group commit waits for fsync): off the network threads.
  parts_.blocking.Post(
      [&app, request = std::move(request), respond = std::move(respond), step = std::move(step)] {
        auto params = ParamsOf(request);
        if (!params) {
          respond(WithApp(LegacyErrorResponse(params.error().code), app));
          return;
        }
        step(*params, request, respond);
      });
}

void LegacyRoutes::RegisterDevice(const App& app, HttpRequest request, Responder respond) {
  OnBlocking(
      app, std::move(request), std::move(respond),
      [this, &app](const Params& params, const HttpRequest& request, const Responder& respond) {
        std::string uid(params.Get("uid").value_or(""));
        auto st = parts_.limiter.Registration(app.config.name, request.client, app.config.limits);
        Undo undo;
        if (st) {
          st = service_.RegisterDevice(app, params, &undo);
        }
        if (auto audited =
                parts_.trail.RecordChange(app, CallerOf(request),
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
      });
}

void LegacyRoutes::Login(const App& app, HttpRequest request, Responder respond) {
  OnBlocking(
      app, std::move(request), std::move(respond),
      [this, &app](const Params& params, const HttpRequest& request, const Responder& respond) {
        std::string uid(params.Get("uid").value_or(""));
        std::string username(params.Get("username").value_or(""));
        LoginAttempt attempt(parts_.limiter, app, request.client);
        Undo undo;
        auto allowed = attempt.Start(username);
        if (!allowed && allowed.error().code == ErrorCode::kResourceExhausted) {
          // Locked out: the 2012 clients handle 401 as a failed login.
          (void)parts_.trail.Record(
              app, CallerOf(request),
              {.action = "login", .outcome = "locked", .device = uid, .user = username});
          RespondLegacyError(request, app, Error{ErrorCode::kUnauthenticated, "locked"}, respond);
          return;
        }
        // Not allowed here: the store could not count the attempt.
        Result<std::string> body =
            allowed ? service_.Login(app, params, &undo) : std::unexpected(allowed.error());
        if (allowed) {
          using Outcome = LoginAttempt::Outcome;
          attempt.Finish(body ? Outcome::kSucceeded
                         : body.error().code == ErrorCode::kUnauthenticated
                             ? Outcome::kWrongPassword
                             : Outcome::kNotChecked);
        }
        if (auto audited =
                parts_.trail.RecordChange(app, CallerOf(request),
                                          {.action = "login",
                                           .outcome = AuditOutcome(body ? nullptr : &body.error()),
                                           .device = uid,
                                           .user = username},
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

void LegacyRoutes::GetToken(const App& app, HttpRequest request, Responder respond,
                            bool may_block) {
  auto params = ParamsOf(request);
  if (!params) {
    respond(WithApp(LegacyErrorResponse(params.error().code), app));
    return;
  }
  // A device whose records are in memory is served on the network thread; any other goes
  // where a store read may wait (a network thread never waits on the store).
  auto ask_elsewhere = [&] {
    parts_.blocking.Post([this, &app, request = std::move(request), respond = std::move(respond)] {
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
    parts_.vend.Refused(app, CallerOf(request), AuditOutcome(&grant.error()),
                        params->Get("uid").value_or(""));
    RespondLegacyError(request, app, grant.error(), respond);
    return;
  }
  // Only the device key stays here, to wrap the answer; the request goes to the issuer.
  auto seal = [this, key = std::make_shared<SecretString>(std::move(grant->device_key))](
                  const Credentials& creds) { return service_.SealToken(*key, creds); };
  parts_.vend.Run(app, CallerOf(request), std::move(grant->request), std::move(seal),
                  [&app, respond = std::move(respond)](VendResult vended) {
                    if (vended) {
                      respond(WithApp(LegacyOk(std::move(*vended)), app));
                      return;
                    }
                    // A limit is the 2012 refusal its clients know; every other failure is a 500
                    // (never credentials the audit log does not show).
                    const Error& error = vended.error().error;
                    respond(WithApp(LegacyErrorResponse(vended.error().step == VendStep::kLimit
                                                            ? error.code
                                                            : ErrorCode::kInternal),
                                    app));
                  });
}

void LegacyRoutes::RegisterUser(const App& app, const HttpRequest& request, Responder respond) {
  parts_.blocking.Post([this, &app, request, respond = std::move(respond)] {
    auto params = ParamsOf(request);
    if (params && CrossSite(request, *params)) {
      (void)parts_.trail.Record(app, CallerOf(request),
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
    auto st = parts_.limiter.Registration(app.config.name, request.client, app.config.limits);
    if (!st && st.error().code == ErrorCode::kResourceExhausted) {
      (void)parts_.trail.Record(app, CallerOf(request),
                                {.action = "register_user", .outcome = AuditOutcome(&st.error())});
      HttpResponse busy = Html(429, pages::Failure(app.display_name,
                                                   "Too many registrations from your address. "
                                                   "Please try again later."));
      busy.headers.emplace_back("Retry-After", std::to_string(st.error().retry_after.count()));
      respond(WithApp(std::move(busy), app));
      return;
    }
    Undo undo;
    if (st) {  // else the store that counts registrations is down: a 500 page, as for any
      st = service_.RegisterUser(app, *params, &undo);
    }
    if (auto audited =
            parts_.trail.RecordChange(app, CallerOf(request),
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

}  // namespace vendo::server
