// The answers every v2 route gives: JSON bodies, v2 errors, and the answer to a vend (its
// credentials JSON, or the v2 error for the step that failed), each named for the access log
// as the app's.
#pragma once

#include <optional>
#include <string>

#include "http/http_types.h"
#include "vending/app.h"
#include "vending/v2_service.h"
#include "vending/vend.h"

namespace vendo::server {

// The v2 error `code` with `message` (not yet named for an app when `app` is null).
HttpResponse V2Fail(V2Code code, std::string message, const App* app = nullptr);
HttpResponse V2Failed(const App& app, const V2Failure& failure);
HttpResponse V2Json(const App& app, int status, std::string body);
// What a vend's end answers: 200 with its JSON, or the v2 error of the step that failed.
VendDone V2VendAnswer(const App& app, Responder respond);
// The sealer of a v2 vend: the credentials JSON, sealed when `key` asks (V2Service's
// CredentialsBody), with `bound`'s id and secret when set; `v2` and `app` outlive the vend.
Sealer V2CredentialsSealer(V2Service& v2, const App& app, V2SealKey key,
                           std::optional<V2Registration> bound = std::nullopt);

}  // namespace vendo::server
