#include "web/federate_route.h"

#include "common/task_runner.h"
#include "web/v2_answers.h"

namespace vendo::server {

struct FederateRoute::Call {
  const App& app;
  HttpRequest request;
  Responder respond;
  FederateRequest body;
};

void FederateRoute::Handle(const App& app, HttpRequest request, Responder respond) {
  if (!app.config.federated) {
    respond(V2Fail(V2Code::kWrongMode, "this app takes no ID tokens (it is not federated)", &app));
    return;
  }
  auto body = ParseFederateBody(request.body);
  if (!body) {
    respond(V2Failed(app, body.error()));
    return;
  }
  // An address whose tokens keep failing is refused before its next one costs a signature
  // check (or a key refetch).
  if (auto limited =
          parts_.limiter.IdTokenCheck(app.config.name, CallerOf(request).client, app.config.limits);
      !limited) {
    parts_.vend.Refused(app, CallerOf(request), AuditOutcome(&limited.error()));
    respond(V2Failed(app, V2LimitFailure(limited.error(), "too many failed ID tokens")));
    return;
  }
  auto call =
      std::make_shared<Call>(Call{app, std::move(request), std::move(respond), std::move(*body)});
  call->request.body.clear();  // the token is in call->body; nothing else keeps it
  federation_.Verify(app, call->body, [this, call](V2Result<oidc::VerifiedToken> verified) {
    call->body.id_token.clear();  // checked: not kept a moment longer
    if (!verified && verified.error().code == V2Code::kInvalidToken) {
      parts_.limiter.IdTokenFailed(call->app.config.name, CallerOf(call->request).client,
                                   call->app.config.limits);
    }
    // Binding a device writes to the store: never on a network thread.
    if (verified && !call->body.bind_device && memory_ != nullptr &&
        CurrentNetworkThread() != nullptr) {
      if (auto grant = federation_.GrantFromMemory(call->app, *verified, *memory_)) {
        Answer(call, *verified, std::move(*grant), Undo());
        return;
      }
    }
    parts_.blocking.Post([this, call, verified = std::move(verified)]() mutable {
      Vend(call, std::move(verified));
    });
  });
}

void FederateRoute::Vend(const std::shared_ptr<Call>& call,
                         V2Result<oidc::VerifiedToken> verified) {
  const App& app = call->app;
  Caller caller = CallerOf(call->request);
  if (!verified) {
    parts_.vend.Refused(app, caller,
                        verified.error().reason.empty() ? V2CodeName(verified.error().code)
                                                        : verified.error().reason);
    call->respond(V2Failed(app, verified.error()));
    return;
  }
  Undo undo;
  auto grant = federation_.Grant(app, *verified, &undo);
  Answer(call, *verified, std::move(grant), undo);
}

void FederateRoute::Answer(const std::shared_ptr<Call>& call, const oidc::VerifiedToken& token,
                           V2Result<FederatedGrant> grant, const Undo& undo) {
  const App& app = call->app;
  Caller caller = CallerOf(call->request);
  if (!grant) {
    parts_.vend.Refused(app, caller, V2CodeName(grant.error().code),
                        FederatedUsername(token.idp, token.subject));
    call->respond(V2Failed(app, grant.error()));
    return;
  }
  if (grant->new_identity) {
    if (auto audited = parts_.trail.RecordChange(
            app, caller,
            {.action = "register_federated_identity", .outcome = "ok", .user = grant->username},
            undo);
        !audited) {
      call->respond(V2Failed(app, V2Failure{V2Code::kInternalError, "internal error"}));
      return;
    }
  }
  std::optional<V2Registration> bound;
  Undo unbind;
  if (call->body.bind_device) {  // on `blocking`: Handle never vends it on a network thread
    auto made = Bind(*call, *grant, token, &unbind);
    if (!made) {
      call->respond(V2Failed(app, made.error()));
      return;
    }
    bound = std::move(*made);
  }
  VendDone done = V2VendAnswer(app, std::move(call->respond));
  if (bound) {
    done = UnbindIfNotVended(call, *grant, bound->device_id, std::move(unbind), std::move(done));
  }
  parts_.vend.Run(app, caller, std::move(grant->request),
                  V2CredentialsSealer(v2_, app, {}, std::move(bound)), std::move(done));
}

V2Result<V2Registration> FederateRoute::Bind(Call& call, const FederatedGrant& grant,
                                             const oidc::VerifiedToken& token, Undo* unbind) {
  const App& app = call.app;
  auto made = federation_.BindDevice(app, grant, token, unbind);
  if (!made) {
    return std::unexpected(made.error());
  }
  if (auto audited = parts_.trail.RecordChange(app, CallerOf(call.request),
                                               {.action = "bind_federated_device",
                                                .outcome = "ok",
                                                .device = made->device_id,
                                                .user = grant.username},
                                               *unbind);
      !audited) {
    return std::unexpected(V2Failure{V2Code::kInternalError, "internal error"});
  }
  return made;
}

VendDone FederateRoute::UnbindIfNotVended(const std::shared_ptr<Call>& call,
                                          const FederatedGrant& grant, std::string device_id,
                                          Undo unbind, VendDone done) {
  // A device whose secret never reached its client is of use to nobody: when the vend fails
  // (a limit, the issuer), the device goes again, and the audit log says so.
  return [this, call, username = grant.username, device_id = std::move(device_id),
          unbind = std::move(unbind), done = std::move(done)](VendResult vended) mutable {
    if (!vended) {
      parts_.blocking.Post([this, call, username, device_id, unbind = std::move(unbind)] {
        Status undone = unbind();
        (void)parts_.trail.Record(call->app, CallerOf(call->request),
                                  {.action = "unbind_federated_device",
                                   .outcome = AuditOutcome(undone ? nullptr : &undone.error()),
                                   .device = device_id,
                                   .user = username});
      });
    }
    done(std::move(vended));
  };
}

}  // namespace vendo::server
