// What the 2012 and v2 routes share: reading a request (its parameters, its media type, where
// it came from) and shaping an answer (the app's name for the access log, HSTS, plain text,
// the 2012 error), and the sign-up page with its CSRF cookie.
#pragma once

#include <string>
#include <string_view>

#include "common/random.h"
#include "common/task_runner.h"
#include "config/app_config.h"
#include "http/http_types.h"
#include "protocol/form.h"
#include "vending/app.h"
#include "vending/audit_trail.h"
#include "vending/limits.h"
#include "vending/vend.h"
#include "vendo/result.h"
#include "web/pages.h"

namespace vendo::server {

using protocol::Params;

// What the routes of both protocols work with besides their protocol's service: where work
// that waits on the store runs, the audit trail, the vend, the abuse limits, and the
// randomness of the sign-up pages' CSRF tokens. All outlive the routes.
struct RouteParts {
  TaskRunner& blocking;
  AuditTrail& trail;
  Vend& vend;
  Limiter& limiter;
  Random& random;
};

// HSTS on pages served over TLS: browsers then refuse plain HTTP to this host for a year.
HttpResponse Secure(HttpResponse r, const HttpRequest& request);
// A text/plain answer.
HttpResponse Text(int status, std::string body);
// `r`, named for the access log as `app`'s.
HttpResponse WithApp(HttpResponse r, const App& app);
// The query string's and (form) body's parameters.
[[nodiscard]] Result<Params> ParamsOf(const HttpRequest& request);
// The media type of a Content-Type value, without parameters or case.
bool IsMediaType(std::string_view content_type, std::string_view type);
// Who asked, for the audit trail.
Caller CallerOf(const HttpRequest& request);

// A cross-site request forgery check for the sign-up forms. Browsers name the page a request
// came from (Origin, or at least Referer): it must be this host. A browser that loaded the
// form also holds the form's token in a SameSite cookie, and must send it back in the form.
// Apps that POST directly (no Origin, Referer or cookie: the 2012 clients) are not browsers
// and pass.
bool CrossSite(const HttpRequest& request, const Params& params);
// A v2 call from a web page of another site: its browser sends that site's Origin. Apps list
// the sites whose pages may call them; any other is refused, so that a hostile page cannot
// sign users up, register devices or guess passwords from its visitors' browsers.
bool ForeignOrigin(const HttpRequest& request, const AppConfig& app);

// Logs what went wrong, when it is worth an operator's attention (a store or issuer failure).
void LogFailure(const HttpRequest& request, const App& app, const Error& error);
// Logs what went wrong (when it is worth an operator's attention) and answers with the 2012
// status and body for it. A store that is down answers 500, as clients expect.
void RespondLegacyError(const HttpRequest& request, const App& app, const Error& error,
                        const Responder& respond);

// The sign-up page, with a fresh CSRF token (from `random`) in the form and in a cookie that
// only this site can read; its form posts to `form.action`.
HttpResponse RegisterPage(const App& app, const HttpRequest& request, pages::RegisterForm form,
                          Random& random, int status = 200);

}  // namespace vendo::server
