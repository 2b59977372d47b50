// The HTML pages of identity apps. The <title> strings are byte-exact with the 2012 JSPs,
// because shipping apps scrape them: "{appname} - Register|Success|Error".
#pragma once

#include <string>
#include <string_view>

#include "http/http_types.h"
#include "protocol/validate.h"

namespace vendo::server {

// An HTML response with the security headers every page carries (a strict CSP: no scripts,
// no external assets; no framing; no sniffing; referrers only to this site).
HttpResponse Html(int status, std::string body);

}  // namespace vendo::server

namespace vendo::server::pages {

// The sign-up form. The 2012 page (register.jsp) keeps the 2012 contract: its title, its
// form's name and fields. The modern page (protocol v2) adds a password confirmation checked
// as the user types (a script the CSP allows by its hash), shows errors above the form, and
// keeps what the user typed.
struct RegisterForm {
  std::string_view app_display = {};
  bool tls = false;
  std::string_view csrf_token = {};  // a hidden field, matched against the page's cookie on submit
  std::string_view action = "registeruser";  // where the form posts
  protocol::TextRule password_rule = protocol::kLegacyPasswordRule;
  bool modern = false;
  std::string_view error = {};     // shown above the form (modern page)
  std::string_view username = {};  // kept in the form after an error
};
std::string Register(const RegisterForm& form);
// The Content-Security-Policy of the modern page: the page's own script, by its hash.
std::string_view ModernRegisterCsp();

std::string Success(std::string_view app_display, std::string_view username);
// `reason` is shown to the user; it must not contain secrets.
// `back`: the page to try again from.
std::string Failure(std::string_view app_display, std::string_view reason,
                    std::string_view back = "register.jsp");
std::string MissingParameters(std::string_view app_display);
std::string ServerError(std::string_view app_display);
std::string Home(std::string_view app_display, bool identity);

std::string HtmlEscape(std::string_view s);

}  // namespace vendo::server::pages
