// Where the use cases' failures become HTTP statuses and bodies: one table per protocol.
#pragma once

#include <string>

#include "http/http_types.h"
#include "vending/v2_service.h"
#include "vendo/result.h"

namespace vendo::server {

// 2012 protocol: text/plain bodies ending in CRLF, the exact bytes old clients expect.
HttpResponse LegacyErrorResponse(ErrorCode code);
// A 2012 text/plain success: `payload` followed by CRLF (or an empty body if `empty`).
HttpResponse LegacyOk(std::string payload, bool empty = false);

// Protocol v2: the status, {"error": {"code", "message", ...}} and headers (Retry-After, the
// server's time for a stale timestamp) of a failure.
HttpResponse V2ErrorResponse(const V2Failure& failure, std::string_view server_time);

}  // namespace vendo::server
