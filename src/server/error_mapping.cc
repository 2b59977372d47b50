#include "server/error_mapping.h"

namespace vendo::server {

HttpResponse LegacyErrorResponse(ErrorCode code) {
  HttpResponse r;
  r.expires_now = true;
  switch (code) {
    case ErrorCode::kInvalidArgument:
      r.status = 400;
      r.body = "null\r\n";  // Java's null + "" for an unmapped status
      break;
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kNotFound:
      r.status = 401;  // and no WWW-Authenticate header: old Android clients rely on that
      r.body = "Error matching signature\r\n";
      break;
    case ErrorCode::kStaleRequest:
      r.status = 408;
      r.body = "Timestamp not valid\r\n";
      break;
    case ErrorCode::kAlreadyExists:
      r.status = 409;
      r.body = "null\r\n";
      break;
    default:
      r.status = 500;
      r.body = "Server Error\r\n";
  }
  return r;
}

HttpResponse LegacyOk(std::string payload, bool empty) {
  HttpResponse r;
  r.expires_now = true;
  if (!empty) {
    r.body = std::move(payload);
    r.body += "\r\n";
  }
  return r;
}

}  // namespace vendo::server
