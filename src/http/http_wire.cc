#include "http/http_wire.h"

#include <charconv>
#include <cstdint>

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

void AppendNumber(std::string& out, std::int64_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

}  // namespace

std::string SerializeResponse(const HttpResponse& response, const WireOptions& options) {
  std::string out;
  AppendResponse(out, response, options);
  return out;
}

void AppendResponse(std::string& out, const HttpResponse& response, const WireOptions& options) {
  out.reserve(out.size() + 256 + response.body.size());
  out.append("HTTP/1.1 ");
  AppendNumber(out, response.status);
  out.append(" ").append(options.reason).append("\r\n");
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
  out.append("Content-Length: ");
  AppendNumber(out, static_cast<std::int64_t>(response.body.size()));
  out.append("\r\n");
  if (!options.keep_alive) {
    out.append("Connection: close\r\n");
  } else if (options.http10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (!options.head) {  // a HEAD answer's body would be read as the next answer
    out.append(response.body);
  }
}

}  // namespace vendo::server
