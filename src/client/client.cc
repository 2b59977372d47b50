// Client: the refresh rules (one refresher, others served from the cache, stale-but-valid
// credentials when the server is down) around the two protocols' exchanges.
#include "vendo/client.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "client/wire.h"
#include "common/random.h"
#include "net/url.h"
#include "protocol/legacy.h"
#include "protocol/timestamp.h"
#include "protocol/v2.h"

namespace vendo::client {
namespace {

namespace legacy = protocol::legacy;
namespace v2 = protocol::v2;
using TimePoint = std::chrono::system_clock::time_point;

std::string_view ProtocolName(Protocol p) { return p == Protocol::kV2 ? "v2" : "2012"; }
std::string_view ModeName(Mode m) {
  return m == Mode::kAnonymous ? "anonymous" : m == Mode::kIdentity ? "identity" : "federated";
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') {
    s.pop_back();
  }
  return s;
}

// The path part of "https://host:port/prefix" ("/prefix", or "").
std::string EndpointPath(std::string_view endpoint) {
  auto scheme = endpoint.find("://");
  auto slash = endpoint.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  return slash == std::string_view::npos ? std::string() : std::string(endpoint.substr(slash));
}

bool Transient(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kDeadlineExceeded ||
         code == ErrorCode::kResourceExhausted;
}

Error ServerError(int status) {
  ErrorCode code = status >= 500 || status == 429 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  return Error{code, "the server answered HTTP " + std::to_string(status)};
}

// The client's RandomSource seen as vendo's Random (its Hex and Bytes helpers).
class SourceRandom final : public Random {
 public:
  explicit SourceRandom(std::shared_ptr<RandomSource> source) : source_(std::move(source)) {}
  void Fill(std::span<std::uint8_t> out) override { source_->Fill(out); }

 private:
  std::shared_ptr<RandomSource> source_;
};

class ClientImpl final : public Client {
 public:
  ClientImpl(ClientOptions options, std::unique_ptr<StateStore> store,
             std::unique_ptr<Transport> transport, std::shared_ptr<const TimeSource> time,
             std::shared_ptr<RandomSource> random, State state)
      : opt_(std::move(options)),
        store_(std::move(store)),
        transport_(std::move(transport)),
        time_(std::move(time)),
        random_(std::move(random)),
        state_(std::move(state)) {}

  Status Register() override {
    if (opt_.mode != Mode::kAnonymous) {
      return Fail(ErrorCode::kFailedPrecondition,
                  opt_.mode == Mode::kIdentity ? "identity apps log users in: use Login()"
                                               : "federated apps take ID tokens: use Federate()");
    }
    return Exclusive(
        [this](State& s) -> Status { return s.device_id.empty() ? RegisterDevice(s) : Status(); });
  }

  Status Login(std::string_view username, std::string_view password) override {
    if (opt_.mode != Mode::kIdentity) {
      return Fail(ErrorCode::kFailedPrecondition,
                  opt_.mode == Mode::kAnonymous ? "anonymous apps register: use Register()"
                                                : "federated apps take ID tokens: use Federate()");
    }
    return Exclusive([&](State& s) { return LoginDevice(s, username, password); });
  }

  Status Federate(std::string_view id_token) override {
    if (opt_.mode != Mode::kFederated) {
      return Fail(ErrorCode::kFailedPrecondition, "only federated apps take ID tokens");
    }
    std::string token(id_token);
    return Exclusive([&](State& s) -> Status {
      auto creds = RequestFederated(s, token);
      if (!creds) {
        return std::unexpected(creds.error());
      }
      s.credentials = std::move(*creds);
      return {};
    });
  }

  Result<Credentials> GetCredentials() override { return Get(false); }
  Result<Credentials> Refresh() override { return Get(true); }

  Status Forget() override {
    return Exclusive([](State& s) -> Status {
      s.device_id.clear();
      s.device_secret.clear();
      s.username.clear();
      s.credentials.reset();
      s.region.clear();
      return {};
    });
  }

  std::string DeviceId() const override {
    std::lock_guard lock(mu_);
    return state_.device_id;
  }

  std::string Region() const override {
    std::lock_guard lock(mu_);
    return state_.region;
  }

  std::chrono::seconds ClockSkew() const override { return std::chrono::seconds(skew_.load()); }

 private:
  TimePoint ServerNow() const { return time_->Now() + std::chrono::seconds(skew_.load()); }

  // Runs `op` on a copy of the state as the only network operation in flight, then saves and
  // keeps the copy if `op` succeeded.
  Status Exclusive(const std::function<Status(State&)>& op) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !busy_; });
    busy_ = true;
    State work = state_;
    lock.unlock();
    Status st = op(work);
    if (st) {
      st = store_->Save(work);
    }
    lock.lock();
    if (st) {
      state_ = std::move(work);
    }
    busy_ = false;
    ++generation_;
    cv_.notify_all();
    return st;
  }

  Result<Credentials> Get(bool force) {
    std::unique_lock lock(mu_);
    for (;;) {
      TimePoint now = ServerNow();
      const auto& cached = state_.credentials;
      bool valid = cached && now < cached->expiration;
      if (!force && cached && now < cached->expiration - opt_.refresh_margin) {
        return *cached;
      }
      if (busy_) {
        // Someone is fetching already: use what is still valid, or wait for their result.
        if (valid && !force) {
          return *cached;
        }
        std::uint64_t seen = generation_;
        cv_.wait(lock, [this] { return !busy_; });
        if (generation_ != seen) {
          force = false;  // their fetch is as fresh as ours would be
          if (last_error_ &&
              !(state_.credentials && ServerNow() < state_.credentials->expiration)) {
            return std::unexpected(*last_error_);
          }
        }
        continue;
      }
      busy_ = true;
      State work = state_;
      lock.unlock();
      auto fetched = FetchToken(work);
      if (fetched) {
        work.credentials = *fetched;
      } else if (fetched.error().code == ErrorCode::kPermissionDenied ||
                 fetched.error().code == ErrorCode::kUnauthenticated) {
        work.credentials.reset();  // revoked, disabled or logged out: stop using them too
      }
      // Save what changed (new credentials, or a new registration before a failure).
      bool changed = fetched || work.device_id != state_.device_id ||
                     work.credentials.has_value() != state_.credentials.has_value();
      Status saved = changed ? store_->Save(work) : Status();
      lock.lock();
      busy_ = false;
      ++generation_;
      if (saved) {
        state_ = std::move(work);
      }
      if (fetched && saved) {
        last_error_.reset();
      } else {
        last_error_ = fetched ? saved.error() : fetched.error();
      }
      cv_.notify_all();
      if (fetched) {
        if (!saved) {
          return std::unexpected(saved.error());
        }
        return *fetched;
      }
      if (!force && Transient(fetched.error().code) && state_.credentials &&
          ServerNow() < state_.credentials->expiration) {
        return *state_.credentials;  // the server is down, but what we have is still good
      }
      return std::unexpected(fetched.error());
    }
  }

  // --- HTTP ---

  void NoteDate(const HttpResponse& r) {
    if (auto date = wire::ParseHttpDate(r.Header("Date"))) {
      skew_ = std::chrono::duration_cast<std::chrono::seconds>(*date - time_->Now()).count();
    }
  }

  // Sends the request `make` builds (again for each attempt: signatures hold a timestamp and
  // a nonce), retrying network errors, 5xx and 429 with capped exponential backoff and jitter.
  Result<HttpResponse> Call(const std::function<HttpRequest()>& make) {
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

  std::int64_t Jitter(std::int64_t below) {
    std::uint64_t r = 0;
    random_.Fill({reinterpret_cast<std::uint8_t*>(&r), sizeof r});
    return static_cast<std::int64_t>(r % static_cast<std::uint64_t>(below));
  }

  std::string V2Path(std::string_view what) const {
    return EndpointPath(opt_.endpoint) + "/v2/apps/" + opt_.app + "/" + std::string(what);
  }
  std::string V2Url(std::string_view what) const {
    return opt_.endpoint.substr(0, opt_.endpoint.size() - EndpointPath(opt_.endpoint).size()) +
           V2Path(what);
  }
  std::string LegacyBase() const {
    return opt_.app.empty() ? opt_.endpoint : opt_.endpoint + "/apps/" + opt_.app;
  }

  static HttpRequest Json(std::string url, std::string body) {
    return HttpRequest{.method = "POST",
                       .url = std::move(url),
                       .headers = {{"Content-Type", "application/json"}},
                       .body = std::move(body)};
  }

  // --- Registration and login ---

  // POSTs a v2 registration or login; keeps the device id and secret the server answers with.
  Status V2DeviceGrant(std::string_view what, const std::string& body, int expected, State& s) {
    auto r = Call([&] { return Json(V2Url(what), body); });
    if (!r) {
      return std::unexpected(r.error());
    }
    if (r->status != expected) {
      return std::unexpected(wire::V2Error(r->status, r->body));
    }
    boost::system::error_code ec;
    auto doc = boost::json::parse(r->body, ec);
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

  Status RegisterDevice(State& s) {
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

  Status LoginDevice(State& s, std::string_view username, std::string_view password) {
    std::string keep_uid = s.username == username ? s.device_id : "";
    s = State{.endpoint = s.endpoint, .app = s.app, .protocol = s.protocol, .mode = s.mode};
    if (opt_.protocol == Protocol::kV2) {
      std::string body = boost::json::serialize(
          boost::json::object{{"username", username}, {"password", password}});
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

  // --- Tokens ---

  Result<Credentials> FetchToken(State& s) {
    if (opt_.mode == Mode::kFederated) {
      if (!opt_.id_token) {
        return Fail(ErrorCode::kUnauthenticated,
                    "the credentials have run out: federate again with a new ID token");
      }
      auto token = opt_.id_token();
      if (!token) {
        return std::unexpected(token.error());
      }
      return RequestFederated(s, *token);
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

  // POST federate with `id_token`: credentials, or the server's refusal (an ID token it does
  // not take is kUnauthenticated, its provider out of reach kUnavailable).
  Result<Credentials> RequestFederated(State& s, const std::string& id_token) {
    std::string body = boost::json::serialize(boost::json::object{{"id_token", id_token}});
    auto r = Call([&] { return Json(V2Url("federate"), body); });
    OPENSSL_cleanse(body.data(), body.size());
    if (!r) {
      return std::unexpected(r.error());
    }
    if (r->status != 200) {
      return std::unexpected(wire::V2Error(r->status, r->body));
    }
    return wire::ParseV2Credentials(r->body, s.region);
  }

  // One token request, re-signed once when the server says our timestamp was off. A device
  // the server does not know is kNotFound.
  Result<Credentials> RequestToken(State& s) {
    Result<Credentials> r = Fail(ErrorCode::kInternal, "no answer");
    for (int tries = 0; tries < 2; ++tries) {
      r = opt_.protocol == Protocol::kV2 ? RequestTokenV2(s) : RequestTokenLegacy(s);
      if (r || r.error().code != ErrorCode::kStaleRequest) {
        break;
      }
    }
    return r;
  }

  Result<Credentials> RequestTokenV2(State& s) {
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

  Result<Credentials> RequestTokenLegacy(State& s) {
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

  const ClientOptions opt_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<Transport> transport_;
  std::shared_ptr<const TimeSource> time_;
  SourceRandom random_;
  std::atomic<std::int64_t> skew_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  State state_;                      // guarded by mu_
  bool busy_ = false;                // a network operation is in flight (guarded by mu_)
  std::uint64_t generation_ = 0;     // network operations finished (guarded by mu_)
  std::optional<Error> last_error_;  // of the last fetch (guarded by mu_)
};

}  // namespace

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options,
                                               std::unique_ptr<StateStore> store,
                                               std::unique_ptr<Transport> transport,
                                               std::shared_ptr<const TimeSource> time,
                                               std::shared_ptr<RandomSource> random) {
  if (!store) {
    return Fail(ErrorCode::kInvalidArgument, "a client needs a state store");
  }
  auto loaded = store->Load();
  if (!loaded) {
    return std::unexpected(loaded.error());
  }
  options.endpoint = TrimSlash(options.endpoint);
  State state;
  if (*loaded) {
    state = std::move(**loaded);
    if (options.endpoint.empty()) {
      options.endpoint = state.endpoint;
      options.app = state.app;
      options.protocol = state.protocol;
      options.mode = state.mode;
    } else if (options.endpoint != state.endpoint || options.app != state.app ||
               options.protocol != state.protocol || options.mode != state.mode) {
      return Fail(ErrorCode::kFailedPrecondition, "the saved state belongs to app '" + state.app +
                                                      "' at " + state.endpoint + " (" +
                                                      std::string(ProtocolName(state.protocol)) +
                                                      ", " + std::string(ModeName(state.mode)) +
                                                      "): forget it first, or keep another state");
    }
  } else if (options.endpoint.empty()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "nothing is registered yet: give the server's endpoint");
  } else {
    state = State{.endpoint = options.endpoint,
                  .app = options.app,
                  .protocol = options.protocol,
                  .mode = options.mode};
  }
  if (auto url = net::ParseHttpUrl(options.endpoint); !url) {
    return Fail(ErrorCode::kInvalidArgument, "endpoint: " + url.error().message);
  }
  if (options.mode == Mode::kFederated && options.protocol != Protocol::kV2) {
    return Fail(ErrorCode::kInvalidArgument, "federation is a protocol v2 endpoint");
  }
  if (options.protocol == Protocol::kV2 && options.app.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "protocol v2 needs the app's name");
  }
  if (options.max_attempts < 1 || options.refresh_margin.count() < 0) {
    return Fail(ErrorCode::kInvalidArgument, "max_attempts must be 1 or more, the margin >= 0");
  }
  if (!transport) {
    auto made = DefaultTransport();
    if (!made) {
      return std::unexpected(made.error());
    }
    transport = std::move(*made);
  }
  if (!time) {
    time = SystemTime();
  }
  if (!random) {
    random = SystemRandom();
  }
  return std::unique_ptr<Client>(std::make_unique<ClientImpl>(std::move(options), std::move(store),
                                                              std::move(transport), std::move(time),
                                                              std::move(random), std::move(state)));
}

}  // namespace vendo::client
