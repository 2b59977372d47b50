// The HTML pages of identity apps. The <title> strings are byte-exact with the 2012 JSPs,
// because shipping apps scrape them: "{appname} - Register|Success|Error".
#pragma once

#include <string>
#include <string_view>

#include "server/http_types.h"

namespace vendo::server {

// An HTML response with the security headers every page carries (a strict CSP: no scripts,
// no external assets; no framing; no sniffing; no referrer).
HttpResponse Html(int status, std::string body);

}  // namespace vendo::server

namespace vendo::server::pages {

// `csrf_token`: goes in a hidden field, matched against the page's cookie on submit.
// `action`: where the form posts ("registeruser" for 2012, "users" for v2).
std::string Register(std::string_view app_display, bool tls, std::string_view csrf_token,
                     std::string_view action = "registeruser", int min_password = 6);
std::string Success(std::string_view app_display, std::string_view username);
// `reason` is shown to the user; it must not contain secrets.
std::string Failure(std::string_view app_display, std::string_view reason);
std::string MissingParameters(std::string_view app_display);
std::string ServerError(std::string_view app_display);
std::string Home(std::string_view app_display, bool identity);

std::string HtmlEscape(std::string_view s);

}  // namespace vendo::server::pages
