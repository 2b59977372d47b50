// Serializes an HttpResponse into HTTP/1.1 wire bytes in one buffer.
//
// Beast's serializer builds the same bytes from a chain of buffer views; for responses of a
// few hundred bytes that machinery cost about 15% of a /gettoken request (callgrind), so the
// transport writes this one string instead. Parsing stays with Beast.
#pragma once

#include <string>
#include <string_view>

#include "http/http_types.h"

namespace vendo::server {

struct WireOptions {
  std::string_view reason;      // "OK", "Not Found", ...
  std::string_view date;        // RFC 1123, for Date (and Expires when asked)
  std::string_view request_id;  // X-Request-Id
  bool keep_alive = true;
  bool http10 = false;  // the request was HTTP/1.0: say keep-alive explicitly
  bool head = false;    // the request was HEAD: the headers of the answer, never its body
};

std::string SerializeResponse(const HttpResponse& response, const WireOptions& options);
// The same, appended to `out` (a session reuses one buffer for all its responses).
void AppendResponse(std::string& out, const HttpResponse& response, const WireOptions& options);

}  // namespace vendo::server
