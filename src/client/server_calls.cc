#include "client/server_calls.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <boost/json.hpp>
#include <thread>

#include "client/wire.h"
#include "protocol/legacy.h"
#include "protocol/timestamp.h"
#include "protocol/v2.h"

namespace vendo::client {
namespace {

namespace legacy = protocol::legacy;
namespace v2 = protocol::v2;

// The path part of "https://host:port/prefix" ("/prefix", or "").
std::string EndpointPath(std::string_view endpoint) {
  auto scheme = endpoint.find("://");
  auto slash = endpoint.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  return slash == std::string_view::npos ? std::string() : std::string(endpoint.substr(slash));
}

Error ServerError(int status) {
  ErrorCode code = status >= 500 || status == 429 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  return Error{code, "the server answered HTTP " + std::to_string(status)};
}

}  // namespace

bool Transient(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kDeadlineExceeded ||
         code == ErrorCode::kResourceExhausted;
}

void ServerCalls::NoteDate(const HttpResponse& r) {
  if (auto date = wire::ParseHttpDate(r.Header("Date"))) {
    skew_ = std::chrono::duration_cast<std::chrono::seconds>(*date - time_->Now()).count();
  }
}

// Sends the request `make` builds (again for each attempt: signatures hold a timestamp and
// a nonce), retrying network errors, 5xx and 429 with capped exponential backoff and jitter.
Result<HttpResponse> ServerCalls::Call(const std::function<HttpRequest()>& make) {
  auto backoff = opt_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    auto r = transport_->Send(make(), opt_.timeout);
    if (r) {
      NoteDate(*r);
    }
    bool transient = !r || r->status >= 500 || r->status == 429;
    if (!transient || attempt >= opt_.max_attempts) {
      return r;
    }
    auto delay = backoff / 2 + std::chrono::milliseconds(Jitter(backoff.count() / 2 + 1));
    if (r) {
      long retry_after = std::atol(r->Header("Retry-After").c_str());
      delay = std::max(delay, std::chrono::milliseconds(retry_after * 1000));
    }
    std::this_thread::sleep_for(std::min(delay, opt_.max_backoff));
    backoff = std::min(backoff * 2, opt_.max_backoff);
  }
}

std::int64_t ServerCalls::Jitter(std::int64_t below) {
  std::uint64_t r = 0;
  random_.Fill({reinterpret_cast<std::uint8_t*>(&r), sizeof r});
  return static_cast<std::int64_t>(r % static_cast<std::uint64_t>(below));
}

std::string ServerCalls::V2Path(std::string_view what) const {
  return EndpointPath(opt_.endpoint) + "/v2/apps/" + opt_.app + "/" + std::string(what);
}

std::string ServerCalls::V2Url(std::string_view what) const {
  return opt_.endpoint.substr(0, opt_.endpoint.size() - EndpointPath(opt_.endpoint).size()) +
         V2Path(what);
}

std::string ServerCalls::LegacyBase() const {
  return opt_.app.empty() ? opt_.endpoint : opt_.endpoint + "/apps/" + opt_.app;
}

HttpRequest ServerCalls::Json(std::string url, std::string body) {
  return HttpRequest{.method = "POST",
                     .url = std::move(url),
                     .headers = {{"Content-Type", "application/json"}},
                     .body = std::move(body)};
}

namespace {

// The device id and secret of a v2 answer, into `s`.
Status ReadDevice(std::string_view body, State& s) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(body, ec);
  const auto* obj = ec ? nullptr : doc.if_object();
  const auto* id = obj ? obj->if_contains("device_id") : nullptr;
  const auto* secret = obj ? obj->if_contains("device_secret") : nullptr;
  if (!id || !secret || !id->is_string() || !secret->is_string()) {
    return Fail(ErrorCode::kInternal, "the server's answer lacks the device id or secret");
  }
  s.device_id = id->as_string();
  s.device_secret = secret->as_string();
  return {};
}

}  // namespace

// POSTs a v2 registration or login; keeps the device id and secret the server answers with.
Status ServerCalls::V2DeviceGrant(std::string_view what, const std::string& body, int expected,
                                  State& s) {
  auto r = Call([&] { return Json(V2Url(what), body); });
  if (!r) {
    return std::unexpected(r.error());
  }
  if (r->status != expected) {
    return std::unexpected(wire::V2Error(r->status, r->body));
  }
  return ReadDevice(r->body, s);
}

Status ServerCalls::RegisterDevice(State& s) {
  s = State{.endpoint = s.endpoint, .app = s.app, .protocol = s.protocol, .mode = s.mode};
  if (opt_.protocol == Protocol::kV2) {
    return V2DeviceGrant("devices", "{}", 201, s);
  }
  // 2012: the device makes its uid and key and sends them (in the URL: that protocol's flaw).
  for (int tries = 0; tries < 2; ++tries) {
    std::string uid = random_.Hex(16), key = random_.Hex(16);
    auto r = Call([&] {
      return HttpRequest{
          .method = "GET",
          .url = fmt::format("{}/registerdevice?uid={}&key={}", LegacyBase(), uid, key)};
    });
    if (!r) {
      return std::unexpected(r.error());
    }
    if (r->status == 200) {
      s.device_id = uid;
      s.device_secret = key;
      return {};
    }
    if (r->status != 409) {
      return std::unexpected(ServerError(r->status));
    }
  }
  return Fail(ErrorCode::kAlreadyExists, "the server refused two fresh device ids");
}

Status ServerCalls::LoginDevice(State& s, std::string_view username, std::string_view password) {
  std::string keep_uid = s.username == username ? s.device_id : "";
  s = State{.endpoint = s.endpoint, .app = s.app, .protocol = s.protocol, .mode = s.mode};
  if (opt_.protocol == Protocol::kV2) {
    std::string body =
        boost::json::serialize(boost::json::object{{"username", username}, {"password", password}});
    Status st = V2DeviceGrant("login", body, 200, s);
    OPENSSL_cleanse(body.data(), body.size());
    if (st) {
      s.username = username;
    }
    return st;
  }
  if (opt_.legacy_app_name.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "2012 identity apps need the app name their server salts passwords with");
  }
  std::string uid = keep_uid.empty() ? random_.Hex(16) : keep_uid;
  std::string salt_endpoint =
      opt_.legacy_salt_endpoint.empty() ? LegacyBase() : opt_.legacy_salt_endpoint;
  std::string hash = legacy::SaltedPasswordHash(password, username, opt_.legacy_app_name,
                                                legacy::NormalizeEndpoint(salt_endpoint));
  Result<std::string> key = Fail(ErrorCode::kInternal, "no answer");
  for (int tries = 0; tries < 2; ++tries) {
    auto r = Call([&] {
      std::string ts = protocol::IsoMillis(ServerNow());
      return HttpRequest{.method = "GET",
                         .url = LegacyBase() + "/login?uid=" + uid +
                                "&username=" + wire::QueryEscape(username) +
                                "&timestamp=" + wire::QueryEscape(ts) +
                                "&signature=" + legacy::Sign(legacy::Mode::kIdentity, hash, ts)};
    });
    if (!r) {
      key = std::unexpected(r.error());
    } else if (r->status == 200) {
      auto plain = legacy::Unwrap(r->body, legacy::LoginWrapKey(hash));
      key = plain ? wire::ParseLegacyKey(*plain) : std::unexpected(plain.error());
    } else if (r->status == 401) {
      key = Fail(ErrorCode::kUnauthenticated, "wrong username or password");
    } else if (r->status == 408) {
      key = Fail(ErrorCode::kStaleRequest, "the server says this device's clock is off");
      continue;  // the Date header has corrected the skew: once more
    } else {
      key = std::unexpected(ServerError(r->status));
    }
    break;
  }
  OPENSSL_cleanse(hash.data(), hash.size());
  if (!key) {
    return std::unexpected(key.error());
  }
  s.device_id = uid;
  s.device_secret = std::move(*key);
  s.username = username;
  return {};
}

Result<Credentials> ServerCalls::FetchToken(State& s) {
  if (opt_.mode == Mode::kFederated) {
    if (!s.device_id.empty()) {
      // A device bound to the identity: signed requests, no token.
      auto creds = RequestToken(s);
      if (creds || creds.error().code != ErrorCode::kNotFound || !opt_.id_token) {
        return creds;
      }
      // The server no longer knows the device: fall back to the token source.
    }
    if (!opt_.id_token) {
      return Fail(ErrorCode::kUnauthenticated,
                  "the credentials have run out: federate again with a new ID token");
    }
    auto token = opt_.id_token();
    if (!token) {
      return std::unexpected(token.error());
    }
    return RequestFederated(s, *token, false);
  }
  if (s.device_id.empty()) {
    if (opt_.mode == Mode::kIdentity) {
      return Fail(ErrorCode::kUnauthenticated, "not logged in: log in first");
    }
    VENDO_RETURN_IF_ERROR(RegisterDevice(s));
  }
  auto creds = RequestToken(s);
  if (!creds && creds.error().code == ErrorCode::kNotFound && opt_.mode == Mode::kAnonymous) {
    // The server does not know this device (its store was reset, or the device was
    // deleted): register again, once.
    VENDO_RETURN_IF_ERROR(RegisterDevice(s));
    creds = RequestToken(s);
  }
  if (!creds && creds.error().code == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kUnauthenticated,
                "the server no longer accepts this device's login: log in again");
  }
  return creds;
}

// POST federate with `id_token`: credentials (and, with `bind`, a device bound to the
// identity, into `s`), or the server's refusal (an ID token it does not take is
// kUnauthenticated, its provider out of reach kUnavailable).
Result<Credentials> ServerCalls::RequestFederated(State& s, const std::string& id_token,
                                                  bool bind) {
  boost::json::object request{{"id_token", id_token}};
  if (bind) {
    request["bind_device"] = true;
  }
  std::string body = boost::json::serialize(request);
  auto r = Call([&] { return Json(V2Url("federate"), body); });
  OPENSSL_cleanse(body.data(), body.size());
  if (!r) {
    return std::unexpected(r.error());
  }
  if (r->status != 200) {
    return std::unexpected(wire::V2Error(r->status, r->body));
  }
  auto creds = wire::ParseV2Credentials(r->body, s.region);
  if (creds && bind) {
    VENDO_RETURN_IF_ERROR(ReadDevice(r->body, s));
  }
  return creds;
}

// One token request, re-signed once when the server says our timestamp was off. A device
// the server does not know is kNotFound.
Result<Credentials> ServerCalls::RequestToken(State& s) {
  Result<Credentials> r = Fail(ErrorCode::kInternal, "no answer");
  for (int tries = 0; tries < 2; ++tries) {
    r = opt_.protocol == Protocol::kV2 ? RequestTokenV2(s) : RequestTokenLegacy(s);
    if (r || r.error().code != ErrorCode::kStaleRequest) {
      break;
    }
  }
  return r;
}

Result<Credentials> ServerCalls::RequestTokenV2(State& s) {
  auto secret = v2::Base64UrlDecode(s.device_secret);
  if (!secret) {
    return Fail(ErrorCode::kInternal, "the stored device secret is damaged");
  }
  std::string path = V2Path("token");
  std::string body = opt_.seal ? R"({"seal":true})" : "{}";
  std::string nonce;
  auto r = Call([&] {
    nonce = v2::Base64UrlEncode(random_.Bytes(v2::kNonceBytes));
    std::string ts = protocol::IsoSeconds(ServerNow());
    std::string sig =
        v2::Signature(*secret, v2::CanonicalRequest("POST", path, body, ts, nonce, s.device_id));
    HttpRequest req = Json(V2Url("token"), body);
    req.headers.emplace_back("Authorization",
                             v2::FormatAuthorization({s.device_id, ts, nonce, sig}));
    return req;
  });
  OPENSSL_cleanse(secret->data(), secret->size());
  if (!r) {
    return std::unexpected(r.error());
  }
  if (r->status != 200) {
    Error e = wire::V2Error(r->status, r->body);
    if (wire::V2ErrorCode(r->body) == "invalid_signature") {
      e.code = ErrorCode::kNotFound;
    }
    return std::unexpected(std::move(e));
  }
  std::string plain = r->body;
  if (opt_.seal) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(r->body, ec);
    const auto* obj = ec ? nullptr : doc.if_object();
    const auto* sealed = obj ? obj->if_contains("sealed") : nullptr;
    auto key = v2::Base64UrlDecode(s.device_secret);
    auto opened = sealed && sealed->is_string() && key
                      ? v2::Unseal(*key, s.device_id, nonce, sealed->as_string())
                      : Fail(ErrorCode::kInternal, "the server did not seal the credentials");
    if (key) {
      OPENSSL_cleanse(key->data(), key->size());
    }
    if (!opened) {
      return std::unexpected(opened.error());
    }
    plain = std::move(*opened);
  }
  return wire::ParseV2Credentials(plain, s.region);
}

Result<Credentials> ServerCalls::RequestTokenLegacy(State& s) {
  legacy::Mode mode =
      opt_.mode == Mode::kAnonymous ? legacy::Mode::kAnonymous : legacy::Mode::kIdentity;
  auto r = Call([&] {
    std::string ts = protocol::IsoMillis(ServerNow());
    return HttpRequest{.method = "GET",
                       .url = LegacyBase() + "/gettoken?uid=" + wire::QueryEscape(s.device_id) +
                              "&timestamp=" + wire::QueryEscape(ts) + "&signature=" +
                              wire::QueryEscape(legacy::Sign(mode, s.device_secret, ts))};
  });
  if (!r) {
    return std::unexpected(r.error());
  }
  switch (r->status) {
    case 200: {
      auto plain = legacy::Unwrap(r->body, s.device_secret);
      if (!plain) {
        return std::unexpected(plain.error());
      }
      auto creds = wire::ParseLegacyToken(*plain);
      OPENSSL_cleanse(plain->data(), plain->size());
      return creds;
    }
    case 401:  // unknown uid or wrong key: the 2012 server does not say which
      return Fail(ErrorCode::kNotFound, "the server does not know this device");
    case 408:
      return Fail(ErrorCode::kStaleRequest, "the server says this device's clock is off");
    default:
      return std::unexpected(ServerError(r->status));
  }
}

}  // namespace vendo::client
