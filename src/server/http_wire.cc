#include "server/http_wire.h"

#include <fmt/format.h>

namespace vendo::server {
namespace {

// Header values come from vendo's own code, but a CR or LF must never reach the wire.
void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  std::size_t start = out.size();
  out.append(value);
  bool has_line_break = false;
  for (char c : value) {  // a branch-free scan the compiler vectorises
    has_line_break |= (c == '\r') | (c == '\n');
  }
  if (has_line_break) {
    for (std::size_t i = start; i < out.size(); ++i) {
      if (out[i] == '\r' || out[i] == '\n') {
        out[i] = ' ';
      }
    }
  }
  out.append("\r\n");
}

}  // namespace

std::string SerializeResponse(const HttpResponse& response, const WireOptions& options) {
  std::string out;
  out.reserve(256 + response.body.size());
  fmt::format_to(std::back_inserter(out), "HTTP/1.1 {} {}\r\n", response.status, options.reason);
  AppendHeader(out, "Server", "vendo");
  AppendHeader(out, "Date", options.date);
  AppendHeader(out, "Content-Type", response.content_type);
  AppendHeader(out, "X-Request-Id", options.request_id);
  if (response.expires_now) {
    AppendHeader(out, "Expires", options.date);
  }
  for (const auto& [name, value] : response.headers) {
    AppendHeader(out, name, value);
  }
  fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n", response.body.size());
  if (!options.keep_alive) {
    out.append("Connection: close\r\n");
  } else if (options.http10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n").append(response.body);
  return out;
}

}  // namespace vendo::server
