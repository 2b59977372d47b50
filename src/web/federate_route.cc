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
  if (body->bind_device) {
    respond(V2Fail(V2Code::kInvalidRequest, "bind_device is not offered by this server yet", &app));
    return;
  }
  auto call =
      std::make_shared<Call>(Call{app, std::move(request), std::move(respond), std::move(*body)});
  call->request.body.clear();  // the token is in call->body; nothing else keeps it
  federation_.Verify(app, call->body, [this, call](V2Result<oidc::VerifiedToken> verified) {
    call->body.id_token.clear();  // checked: not kept a moment longer
    if (verified && memory_ != nullptr && CurrentNetworkThread() != nullptr) {
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
  parts_.vend.Run(app, caller, std::move(grant->request), V2CredentialsSealer(v2_, app, {}),
                  V2VendAnswer(app, std::move(call->respond)));
}

}  // namespace vendo::server
