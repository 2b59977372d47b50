// Plain request/response types between the HTTP transport (http_server.cc, the only code
// that sees Beast) and the handlers.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vendo::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received
  std::string content_type;
  std::string body;
  bool tls = false;  // TLS to vendo, or to a trusted balancer that says so (X-Forwarded-Proto)
  std::string request_id;  // set by the transport; for log lines
  std::string client;      // the client's address (from a trusted balancer's X-Forwarded-For)
  // Headers the HTML endpoints need (CSRF checks); empty when absent.
  std::string host;
  std::string origin;
  std::string referer;
  std::string cookie;
  std::string authorization;  // protocol v2
};

struct HttpResponse {
  int status = 200;
  std::string_view content_type = "text/plain; charset=UTF-8";  // always a string literal
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool expires_now = false;  // "Expires: <now>", as the 2012 servlets sent
  std::string app;           // for the access log
};

// Called exactly once per request, from any thread.
using Responder = std::function<void(HttpResponse)>;

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void Handle(HttpRequest request, Responder respond) = 0;
  // The answer to a request to `target` that Handle has not answered within the server's
  // handler_timeout (its late answer is then dropped): by default 503 with Retry-After.
  virtual HttpResponse Overdue(std::string_view target) const;
};

}  // namespace vendo::server
