#include "web/pages.h"

#include <fmt/format.h>

#include "common/encoding.h"
#include "crypto/hmac.h"
#include "protocol/validate.h"

namespace vendo::server {

HttpResponse Html(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=UTF-8";
  r.body = std::move(body);
  r.expires_now = true;
  // The pages are static text and one form that posts to this origin.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  // Not "no-referrer": with it, browsers send "Origin: null" on the form's own POST, which
  // the CSRF check must refuse (found by the browser test).
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  return r;
}

}  // namespace vendo::server

namespace vendo::server::pages {
namespace {

constexpr std::string_view kStyle =
    "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f5f6f8;"
    "color:#1d2330;margin:0}main{max-width:28rem;margin:4rem auto;background:#fff;"
    "border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem}"
    "h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .3rem;"
    "font-weight:600}input[type=text],input[type=password]{width:100%;box-sizing:border-box;"
    "padding:.6rem;border:1px solid #c5cad3;border-radius:6px;font-size:1rem}"
    "input[type=submit]{margin-top:1.2rem;padding:.6rem 1.4rem;border:0;border-radius:6px;"
    "background:#2456d3;color:#fff;font-size:1rem;cursor:pointer}"
    ".warn{background:#fff4d6;border:1px solid #e9c46a;padding:.6rem;border-radius:6px}"
    ".err{color:#a4161a}.hint{color:#5b6373;font-size:.9rem}"
    "#form-error{background:#fdecee;border:1px solid #f5c2c7;padding:.6rem;border-radius:6px}";

std::string Page(std::string_view app_display, std::string_view title_suffix,
                 std::string_view body) {
  std::string app = HtmlEscape(app_display);
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{} - {}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n{}</main>\n"
      "</body>\n</html>\n",
      app, title_suffix, kStyle, body);
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// Checks the confirmation as the user types; the server checks it again.
constexpr std::string_view kConfirmScript =
    "document.getElementById('register').addEventListener('input',function(){"
    "var p=document.getElementById('password'),c=document.getElementById('confirm');"
    "c.setCustomValidity(c.value&&c.value!==p.value?'The passwords do not match.':'');});";

}  // namespace

std::string_view ModernRegisterCsp() {
  static const std::string csp = [] {
    auto digest = crypto::Sha256(AsBytes(kConfirmScript));
    return "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-" +
           Base64Encode(digest) + "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
  }();
  return csp;
}

std::string Register(const RegisterForm& f) {
  std::string warning =
      f.tls ? "" : "<p class=\"warn\" role=\"alert\">Warning: You are not running SSL.</p>\n";
  std::string error =
      f.error.empty() ? ""
                      : fmt::format("<p class=\"err\" role=\"alert\" id=\"form-error\">{}</p>\n",
                                    HtmlEscape(f.error));
  std::string confirm =
      f.modern ? fmt::format(
                     "<label for=\"confirm\">Confirm password</label>\n"
                     "<input type=\"password\" id=\"confirm\" name=\"confirm\" required "
                     "minlength=\"{}\" maxlength=\"{}\" autocomplete=\"new-password\">\n",
                     f.password_rule.min, f.password_rule.max)
               : "";
  std::string script = f.modern ? fmt::format("<script>{}</script>\n", kConfirmScript) : "";
  return Page(
      f.app_display, "Register",
      fmt::format(
          "<h1>Create an account for {}</h1>\n{}{}"
          "<form id=\"register\" name=\"register\" action=\"{}\" method=\"POST\">\n"
          "<label for=\"username\">Username</label>\n"
          "<input type=\"text\" id=\"username\" name=\"username\" required minlength=\"{}\" "
          "maxlength=\"{}\" pattern=\"{}\" title=\"{}\" autocomplete=\"username\" "
          "aria-describedby=\"username-hint\" value=\"{}\">\n"
          "<p class=\"hint\" id=\"username-hint\">{}</p>\n"
          "<label for=\"password\">Password</label>\n"
          "<input type=\"password\" id=\"password\" name=\"password\" required "
          "minlength=\"{}\" maxlength=\"{}\" autocomplete=\"new-password\" "
          "aria-describedby=\"password-hint\">\n"
          "<p class=\"hint\" id=\"password-hint\">{}</p>\n{}"
          "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\n"
          "<input type=\"submit\" value=\"Register\">\n</form>\n{}",
          HtmlEscape(f.app_display), warning, error, HtmlEscape(f.action),
          protocol::kUsernameRule.min, protocol::kUsernameRule.max,
          HtmlEscape(protocol::kUsernamePattern), HtmlEscape(protocol::kUsernameRule.hint),
          HtmlEscape(f.username), HtmlEscape(protocol::kUsernameRule.hint), f.password_rule.min,
          f.password_rule.max, HtmlEscape(f.password_rule.hint), confirm, HtmlEscape(f.csrf_token),
          script));
}

std::string Success(std::string_view app_display, std::string_view username) {
  return Page(app_display, "Success",
              fmt::format("<h1>Registration complete</h1>\n<p>The account <strong>{}</strong> "
                          "was created. You can now log in from the app.</p>\n",
                          HtmlEscape(username)));
}

std::string Failure(std::string_view app_display, std::string_view reason, std::string_view back) {
  return Page(app_display, "Error",
              fmt::format("<h1>Registration failed</h1>\n<p class=\"err\" role=\"alert\">{}</p>\n"
                          "<p><a href=\"{}\">Try again</a></p>\n",
                          HtmlEscape(reason), HtmlEscape(back)));
}

std::string MissingParameters(std::string_view app_display) {
  return Failure(app_display, "Please enter both a username and a password.");
}

std::string ServerError(std::string_view app_display) {
  return Page(app_display, "Error",
              "<h1>Something went wrong</h1>\n<p class=\"err\">The server could not complete "
              "the request. Please try again later.</p>\n");
}

std::string Home(std::string_view app_display, bool identity) {
  return Page(
      app_display, "Home",
      fmt::format("<h1>{}</h1>\n<p>This is a vendo token vending machine ({} mode).</p>\n{}",
                  HtmlEscape(app_display), identity ? "identity" : "anonymous",
                  identity ? "<p><a href=\"register.jsp\">Create an account</a></p>\n" : ""));
}

}  // namespace vendo::server::pages
