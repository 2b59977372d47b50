// The one place where vendo error codes become HTTP statuses and bodies.
#pragma once

#include <string>

#include "server/http_types.h"
#include "vendo/result.h"

namespace vendo::server {

// 2012 protocol: text/plain bodies ending in CRLF, the exact bytes old clients expect.
HttpResponse LegacyErrorResponse(ErrorCode code);
// A 2012 text/plain success: `payload` followed by CRLF (or an empty body if `empty`).
HttpResponse LegacyOk(std::string payload, bool empty = false);

}  // namespace vendo::server
