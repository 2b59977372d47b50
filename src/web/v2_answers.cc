#include "web/v2_answers.h"

#include "web/error_mapping.h"

namespace vendo::server {

HttpResponse V2Fail(V2Code code, std::string message, const App* app) {
  HttpResponse r = V2ErrorResponse({code, std::move(message)}, "");
  if (app != nullptr) {
    r.app = app->config.name;
  }
  return r;
}

HttpResponse V2Json(const App& app, int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.app = app.config.name;
  return r;
}

HttpResponse V2Failed(const App& app, const V2Failure& failure) {
  HttpResponse r = V2ErrorResponse(failure, "");
  r.app = app.config.name;
  return r;
}

VendDone V2VendAnswer(const App& app, Responder respond) {
  return [&app, respond = std::move(respond)](VendResult vended) {
    HttpResponse r = vended ? V2Json(app, 200, std::move(*vended))
                            : V2Failed(app, V2VendFailure(vended.error()));
    respond(std::move(r));
  };
}

Sealer V2CredentialsSealer(V2Service& v2, const App& app, V2SealKey key,
                           std::optional<V2Registration> bound) {
  return [&v2, &app, key = std::make_shared<V2SealKey>(std::move(key)),
          bound = std::make_shared<std::optional<V2Registration>>(std::move(bound))](
             const Credentials& creds) -> Result<std::string> {
    auto body = v2.CredentialsBody(*key, creds, app.config.aws.region,
                                   bound->has_value() ? &**bound : nullptr);
    if (!body) {
      return Fail(ErrorCode::kInternal, body.error().message);
    }
    return std::move(*body);
  };
}

}  // namespace vendo::server
