#include "client/wire.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <ctime>

#include "protocol/timestamp.h"

namespace vendo::client::wire {
namespace {

namespace json = boost::json;

const json::object* ParseObject(std::string_view text, json::value& holder) {
  boost::system::error_code ec;
  holder = json::parse(text, ec);
  return ec ? nullptr : holder.if_object();
}

std::string StringField(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The quoted value after `name: "` in a 2012 plaintext; nullopt when absent.
std::optional<std::string> LegacyField(std::string_view text, std::string_view name) {
  std::string marker = std::string(name) + ": \"";
  auto at = text.find(marker);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  auto start = at + marker.size();
  auto end = text.find('"', start);
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(text.substr(start, end - start));
}

}  // namespace

std::optional<TimePoint> ParseHttpDate(std::string_view text) {
  std::string copy(text);
  struct tm tm {};
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  time_t t = timegm(&tm);
  if (t < 0) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(t);
}

Result<Credentials> ParseV2Credentials(std::string_view text, std::string& region) {
  json::value holder;
  const auto* obj = ParseObject(text, holder);
  if (obj == nullptr) {
    return Fail(ErrorCode::kInternal, "the server's credentials are not a JSON object");
  }
  Credentials c{.access_key_id = StringField(*obj, "AccessKeyId"),
                .secret_access_key = StringField(*obj, "SecretAccessKey"),
                .session_token = StringField(*obj, "SessionToken"),
                .expiration = {}};
  auto expiration = protocol::ParseLegacyTimestamp(StringField(*obj, "Expiration"));
  if (c.access_key_id.empty() || c.secret_access_key.empty() || !expiration) {
    return Fail(ErrorCode::kInternal, "the server's credentials lack a field");
  }
  c.expiration = *expiration;
  region = StringField(*obj, "Region");
  return c;
}

std::string V2ErrorCode(std::string_view body) {
  json::value holder;
  const auto* obj = ParseObject(body, holder);
  const auto* error = obj != nullptr ? obj->if_contains("error") : nullptr;
  return error != nullptr && error->is_object() ? StringField(error->as_object(), "code") : "";
}

Error V2Error(int status, std::string_view body) {
  json::value holder;
  const auto* obj = ParseObject(body, holder);
  const auto* e = obj != nullptr ? obj->if_contains("error") : nullptr;
  std::string code = e != nullptr && e->is_object() ? StringField(e->as_object(), "code") : "";
  std::string message =
      e != nullptr && e->is_object() ? StringField(e->as_object(), "message") : "";
  if (std::string reason =
          e != nullptr && e->is_object() ? StringField(e->as_object(), "reason") : "";
      !reason.empty()) {
    message += " (" + reason + ")";
  }
  ErrorCode mapped = ErrorCode::kInternal;
  if (code == "invalid_request") {
    mapped = ErrorCode::kInvalidArgument;
  } else if (code == "invalid_signature" || code == "invalid_credentials" ||
             code == "replayed_request" || code == "invalid_token") {
    mapped = ErrorCode::kUnauthenticated;
  } else if (code == "expired_timestamp") {
    mapped = ErrorCode::kStaleRequest;
  } else if (code == "device_revoked" || code == "user_disabled") {
    mapped = ErrorCode::kPermissionDenied;
  } else if (code == "unknown_app" || code == "not_found") {
    mapped = ErrorCode::kNotFound;
  } else if (code == "wrong_mode") {
    mapped = ErrorCode::kFailedPrecondition;
  } else if (code == "username_taken") {
    mapped = ErrorCode::kAlreadyExists;
  } else if (code == "rate_limited" || status == 429) {
    mapped = ErrorCode::kResourceExhausted;
  } else if (code == "issuer_unavailable" || code == "provider_unavailable" || status >= 500) {
    mapped = ErrorCode::kUnavailable;
  }
  if (code.empty()) {
    return Error{mapped, fmt::format("the server answered HTTP {}", status)};
  }
  return Error{mapped, fmt::format("the server answered {} ({}): {}", status, code, message)};
}

Result<Credentials> ParseLegacyToken(std::string_view plaintext) {
  auto access = LegacyField(plaintext, "accessKey");
  auto secret = LegacyField(plaintext, "secretKey");
  auto token = LegacyField(plaintext, "securityToken");
  auto expiry = LegacyField(plaintext, "expirationDate");
  std::int64_t ms = 0;
  if (!access || !secret || !token || !expiry ||
      std::from_chars(expiry->data(), expiry->data() + expiry->size(), ms).ec != std::errc()) {
    return Fail(ErrorCode::kInternal, "the server's token is not in the 2012 format");
  }
  return Credentials{.access_key_id = *access,
                     .secret_access_key = *secret,
                     .session_token = *token,
                     .expiration = TimePoint(std::chrono::milliseconds(ms))};
}

Result<std::string> ParseLegacyKey(std::string_view plaintext) {
  auto key = LegacyField(plaintext, "key");
  if (!key || key->empty()) {
    return Fail(ErrorCode::kInternal, "the server's login answer has no key");
  }
  return *key;
}

std::string QueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string StateToJson(const State& s) {
  json::object obj{{"version", 1},
                   {"endpoint", s.endpoint},
                   {"app", s.app},
                   {"protocol", s.protocol == Protocol::kV2 ? "v2" : "2012"},
                   {"mode", s.mode == Mode::kAnonymous  ? "anonymous"
                            : s.mode == Mode::kIdentity ? "identity"
                                                        : "federated"},
                   {"device_id", s.device_id},
                   {"device_secret", s.device_secret},
                   {"username", s.username},
                   {"region", s.region}};
  if (s.credentials) {
    obj["credentials"] =
        json::object{{"AccessKeyId", s.credentials->access_key_id},
                     {"SecretAccessKey", s.credentials->secret_access_key},
                     {"SessionToken", s.credentials->session_token},
                     {"Expiration", protocol::IsoSeconds(s.credentials->expiration)}};
  }
  return json::serialize(obj) + "\n";
}

Result<State> StateFromJson(std::string_view text) {
  json::value holder;
  const auto* obj = ParseObject(text, holder);
  const auto* version = obj != nullptr ? obj->if_contains("version") : nullptr;
  if (version == nullptr || !version->is_int64() || version->as_int64() != 1) {
    return Fail(ErrorCode::kInvalidArgument, "not a vendo client state file (version 1)");
  }
  State s;
  s.endpoint = StringField(*obj, "endpoint");
  s.app = StringField(*obj, "app");
  std::string protocol = StringField(*obj, "protocol");
  std::string mode = StringField(*obj, "mode");
  if ((protocol != "v2" && protocol != "2012") ||
      (mode != "anonymous" && mode != "identity" && mode != "federated")) {
    return Fail(ErrorCode::kInvalidArgument, "the state file's protocol or mode is unknown");
  }
  s.protocol = protocol == "v2" ? Protocol::kV2 : Protocol::kLegacy;
  s.mode = mode == "anonymous"  ? Mode::kAnonymous
           : mode == "identity" ? Mode::kIdentity
                                : Mode::kFederated;
  s.device_id = StringField(*obj, "device_id");
  s.device_secret = StringField(*obj, "device_secret");
  s.username = StringField(*obj, "username");
  s.region = StringField(*obj, "region");
  if (const auto* c = obj->if_contains("credentials"); c != nullptr && c->is_object()) {
    std::string ignored;
    auto creds = ParseV2Credentials(json::serialize(*c), ignored);
    if (!creds) {
      return Fail(ErrorCode::kInvalidArgument, "the state file's credentials are damaged");
    }
    s.credentials = std::move(*creds);
  }
  return s;
}

}  // namespace vendo::client::wire
