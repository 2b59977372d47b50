#include "web/route_support.h"

#include "common/log.h"
#include "crypto/hmac.h"
#include "web/error_mapping.h"

namespace vendo::server {
namespace {

constexpr std::string_view kCsrfCookie = "vendo_csrf";

// The host part of an Origin or Referer URL ("https://tvm.example.com:8443/x" ->
// "tvm.example.com:8443").
std::string_view UrlHost(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return {};
  }
  url.remove_prefix(scheme + 3);
  return url.substr(0, url.find('/'));
}

// The value of cookie `name` in a Cookie header, or "".
std::string_view CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') {
      pair.remove_prefix(1);
    }
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
  }
  return {};
}

}  // namespace

HttpResponse Secure(HttpResponse r, const HttpRequest& request) {
  if (request.tls) {
    r.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
  }
  return r;
}

bool CrossSite(const HttpRequest& request, const Params& params) {
  std::string_view from = !request.origin.empty() ? request.origin : request.referer;
  if (!from.empty() && (from == "null" || UrlHost(from) != request.host)) {
    return true;
  }
  std::string_view cookie = CookieValue(request.cookie, kCsrfCookie);
  auto field = params.Get("csrf");
  if (cookie.empty() && !field) {
    return false;
  }
  return cookie.empty() || !field || !crypto::ConstantTimeEquals(cookie, *field);
}

bool ForeignOrigin(const HttpRequest& request, const AppConfig& app) {
  if (request.origin.empty()) {
    return false;  // not a browser's cross-site call (apps and tools send no Origin)
  }
  if (request.origin != "null" && UrlHost(request.origin) == request.host) {
    return false;
  }
  return std::find(app.allowed_origins.begin(), app.allowed_origins.end(), request.origin) ==
         app.allowed_origins.end();
}

bool IsMediaType(std::string_view content_type, std::string_view type) {
  std::string_view base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && (base.back() == ' ' || base.back() == '\t')) {
    base.remove_suffix(1);
  }
  return EqualsIgnoreCase(base, type);
}

void LogFailure(const HttpRequest& req, const App& app, const Error& e) {
  if (e.code == ErrorCode::kInternal || e.code == ErrorCode::kUnavailable ||
      e.code == ErrorCode::kFailedPrecondition || e.code == ErrorCode::kDeadlineExceeded) {
    LogLine(LogLevel::kWarn, "request failed")
        .Str("request_id", req.request_id)
        .Str("app", app.config.name)
        .Str("code", ErrorCodeName(e.code))
        .Str("error", e.message)
        .Emit();
  }
}

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Result<Params> ParamsOf(const HttpRequest& request) {
  std::string_view target = request.target;
  auto q = target.find('?');
  return Params::Parse(q == std::string_view::npos ? "" : target.substr(q + 1), request.body,
                       request.content_type);
}

HttpResponse WithApp(HttpResponse r, const App& app) {
  r.app = app.config.name;
  return r;
}

Caller CallerOf(const HttpRequest& request) { return {request.request_id, request.client}; }

void RespondLegacyError(const HttpRequest& request, const App& app, const Error& error,
                        const Responder& respond) {
  LogFailure(request, app, error);
  respond(WithApp(LegacyErrorResponse(error.code), app));
}

HttpResponse RegisterPage(const App& app, const HttpRequest& request, pages::RegisterForm form,
                          Random& random, int status) {
  // A fresh token for the form, in the page and in a cookie only this site can read.
  std::string token = random.Hex(16);
  form.app_display = app.display_name;
  form.tls = request.tls;
  form.csrf_token = token;
  HttpResponse page = Html(status, pages::Register(form));
  if (form.modern) {
    for (auto& [name, value] : page.headers) {
      if (name == "Content-Security-Policy") {
        value = std::string(pages::ModernRegisterCsp());
      }
    }
  }
  page.headers.emplace_back("Set-Cookie", std::string(kCsrfCookie) + "=" + token +
                                              "; Path=/; HttpOnly; SameSite=Strict" +
                                              (request.tls ? "; Secure" : ""));
  return WithApp(Secure(std::move(page), request), app);
}

}  // namespace vendo::server
