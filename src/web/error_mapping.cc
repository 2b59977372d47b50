#include "web/error_mapping.h"

#include <boost/json.hpp>

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

HttpResponse V2ErrorResponse(const V2Failure& f, std::string_view server_time) {
  int status = 500;
  switch (f.code) {
    case V2Code::kInvalidRequest:
      status = 400;
      break;
    case V2Code::kInvalidSignature:
    case V2Code::kInvalidCredentials:
    case V2Code::kExpiredTimestamp:
    case V2Code::kReplayedRequest:
      status = 401;
      break;
    case V2Code::kDeviceRevoked:
    case V2Code::kUserDisabled:
      status = 403;
      break;
    case V2Code::kNotFound:
      status = 404;
      break;
    case V2Code::kWrongMode:
      status = 405;
      break;
    case V2Code::kUsernameTaken:
      status = 409;
      break;
    case V2Code::kRateLimited:
      status = 429;
      break;
    case V2Code::kInternalError:
      status = 500;
      break;
    case V2Code::kIssuerUnavailable:
      status = 503;
      break;
    case V2Code::kUnsupportedMediaType:
      status = 415;
      break;
    case V2Code::kForbiddenOrigin:
      status = 403;
      break;
    case V2Code::kServerBusy:
    case V2Code::kProviderUnavailable:
      status = 503;
      break;
    case V2Code::kInvalidToken:
      status = 401;
      break;
  }
  boost::json::object error{{"code", V2CodeName(f.code)}, {"message", f.message}};
  if (!f.reason.empty()) {
    error["reason"] = f.reason;
  }
  if (f.code == V2Code::kExpiredTimestamp) {
    error["server_time"] = server_time;
    error["skew_seconds"] = f.skew_seconds;
  }
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = boost::json::serialize(boost::json::object{{"error", error}});
  if (f.retry_after > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(f.retry_after));
  }
  return r;
}

}  // namespace vendo::server
