// Client: the refresh rules (one refresher, others served from the cache, stale-but-valid
// credentials when the server is down) around the exchanges with the server (server_calls.h).
#include "vendo/client.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "client/server_calls.h"
#include "common/random.h"
#include "net/url.h"

namespace vendo::client {
namespace {

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

class ClientImpl final : public Client {
 public:
  ClientImpl(ClientOptions options, std::unique_ptr<StateStore> store,
             std::unique_ptr<Transport> transport, std::shared_ptr<const TimeSource> time,
             std::shared_ptr<RandomSource> random, State state)
      : opt_(std::move(options)),
        store_(std::move(store)),
        calls_(opt_, std::move(transport), std::move(time), std::move(random)),
        state_(std::move(state)) {}

  Status Register() override {
    if (opt_.mode != Mode::kAnonymous) {
      return Fail(ErrorCode::kFailedPrecondition,
                  opt_.mode == Mode::kIdentity ? "identity apps log users in: use Login()"
                                               : "federated apps take ID tokens: use Federate()");
    }
    return Exclusive([this](State& s) -> Status {
      return s.device_id.empty() ? calls_.RegisterDevice(s) : Status();
    });
  }

  Status Login(std::string_view username, std::string_view password) override {
    if (opt_.mode != Mode::kIdentity) {
      return Fail(ErrorCode::kFailedPrecondition,
                  opt_.mode == Mode::kAnonymous ? "anonymous apps register: use Register()"
                                                : "federated apps take ID tokens: use Federate()");
    }
    return Exclusive([&](State& s) { return calls_.LoginDevice(s, username, password); });
  }

  Status Federate(std::string_view id_token) override { return FederateWith(id_token, false); }
  Status BindDevice(std::string_view id_token) override { return FederateWith(id_token, true); }

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

  std::chrono::seconds ClockSkew() const override { return calls_.Skew(); }

 private:
  TimePoint ServerNow() const { return calls_.ServerNow(); }

  Status FederateWith(std::string_view id_token, bool bind) {
    if (opt_.mode != Mode::kFederated) {
      return Fail(ErrorCode::kFailedPrecondition, "only federated apps take ID tokens");
    }
    std::string token(id_token);
    return Exclusive([&](State& s) -> Status {
      if (bind) {
        s.device_id.clear();  // a new binding replaces the old one
        s.device_secret.clear();
      }
      auto creds = calls_.RequestFederated(s, token, bind);
      OPENSSL_cleanse(token.data(), token.size());
      if (!creds) {
        return std::unexpected(creds.error());
      }
      s.credentials = std::move(*creds);
      return {};
    });
  }

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
      auto fetched = calls_.FetchToken(work);
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
  const ClientOptions opt_;
  std::unique_ptr<StateStore> store_;
  ServerCalls calls_;

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
