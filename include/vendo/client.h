// libvendo-client: the device side of vendo.
//
// A Client registers a device once (anonymous apps) or logs a user in (identity apps), keeps
// the device's id and secret and the last credentials in a StateStore, and hands out
// temporary AWS credentials, fetching new ones from the vendo server only when needed:
//
//   vendo::client::ClientOptions options;
//   options.endpoint = "https://tvm.example.com";
//   options.app = "photos";
//   auto store = vendo::client::FileStateStore("/var/lib/myapp/vendo.json");
//   auto client = vendo::client::Client::Create(options, std::move(store));
//   if (!client) { ... client.error().message ... }
//   auto creds = (*client)->GetCredentials();  // registers first if it has to
//
// Both protocols are spoken: v2 (docs/protocol-v2.md), and the 2012 TVM protocol for servers
// that only have that. The rules it follows:
//
// - Credentials are refreshed `refresh_margin` before they expire (by the server's clock),
//   never earlier. While one thread refreshes, other callers get the still-valid credentials
//   at once; callers only wait when there is nothing valid to give them.
// - If a refresh fails for a transient reason (server down, overloaded) while the cached
//   credentials are still valid, those are returned; the next call tries again. Once they
//   have expired, the error is returned. A revoked device or disabled user drops them at once.
// - Transient failures (network errors, 5xx, 429) are retried with capped exponential backoff
//   and jitter, `max_attempts` times in all. Other errors are not retried.
// - The server's `Date` header tells the client how far off its own clock is; requests are
//   signed with the corrected time, and a request refused for its timestamp is re-sent once.
// - An anonymous device registers again only when the server says it does not know it.
//   An identity device whose login is no longer valid gets kUnauthenticated: the app must
//   call Login() again (the client never stores a password).
//
// Thread-safety: every member function of Client may be called from any number of threads at
// once. The StateStore and Transport it is given are used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vendo/credentials.h"
#include "vendo/result.h"

namespace vendo::client {

enum class Protocol {
  kV2,      // JSON under /v2/apps/APP/ (recommended)
  kLegacy,  // the 2012 TVM protocol under /apps/APP/ (or at the root for the default app)
};

enum class Mode {
  kAnonymous,  // the device registers itself
  kIdentity,   // a user logs in; the device gets that user's credentials
  kFederated,  // an ID token of an OpenID provider buys credentials (v2 only), or binds a device
};

// What a device remembers between runs. Holds secrets: keep it private to the app.
struct State {
  std::string endpoint{};  // the server and app it belongs to (checked on load)
  std::string app{};
  Protocol protocol = Protocol::kV2;
  Mode mode = Mode::kAnonymous;
  std::string device_id{};      // v2 device id, or the 2012 uid
  std::string device_secret{};  // v2: base64url secret; 2012: the device key (hex)
  std::string username{};       // identity mode: who logged in
  std::optional<Credentials> credentials{};
  std::string region{};  // of the credentials, when the server says (v2)
};

// Where the State lives. Implement it to keep the state in an app's own secure storage.
class StateStore {
 public:
  virtual ~StateStore() = default;
  // nullopt when nothing has been saved yet.
  [[nodiscard]] virtual Result<std::optional<State>> Load() = 0;
  [[nodiscard]] virtual Status Save(const State& state) = 0;
};

// A JSON file created with mode 0600 (in a directory it creates with 0700 if missing) and
// replaced atomically on every save (write, fsync, rename), so a crash never leaves half a file.
std::unique_ptr<StateStore> FileStateStore(std::string path);

// The HTTP boundary, so tests and apps can supply their own.
struct HttpRequest {
  std::string method{};
  std::string url{};  // absolute: http://… or https://…
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  // The first header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};
struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  // The first header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};
class Transport {
 public:
  virtual ~Transport() = default;
  // Sends the request and waits for the reply. Network failures and timeouts are errors
  // (kUnavailable, kDeadlineExceeded); any HTTP status is a response.
  [[nodiscard]] virtual Result<HttpResponse> Send(const HttpRequest& request,
                                                  std::chrono::milliseconds timeout) = 0;
};
// HTTPS (verified against the system trust store, or `ca_file` when given) and plain HTTP,
// with keep-alive. Fails when the CA file cannot be read.
[[nodiscard]] Result<std::unique_ptr<Transport>> DefaultTransport(const std::string& ca_file = "");

// The time, so tests can move it. SystemTime() is the real one.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};
std::shared_ptr<const TimeSource> SystemTime();

// Where a client's uids, keys, nonces and backoff jitter come from, so tests can pin them.
// SystemRandom() is OpenSSL's CSPRNG; anything else must be as unpredictable in production.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` entirely. Called from one thread at a time.
  virtual void Fill(std::span<std::uint8_t> out) = 0;
};
std::shared_ptr<RandomSource> SystemRandom();

struct ClientOptions {
  std::string endpoint{};  // the server: "https://tvm.example.com"
  std::string app{};       // the app's name on the server; "" = the 2012 default app at the root
  Protocol protocol = Protocol::kV2;
  Mode mode = Mode::kAnonymous;
  // 2012 identity apps only: the app name the server's salt uses (its `app_name`), and the
  // endpoint in the salt when the server's `public_endpoint` differs from endpoint/apps/app.
  std::string legacy_app_name{};
  std::string legacy_salt_endpoint{};
  // v2: ask for credentials sealed under the device secret (for TLS ended before vendo).
  bool seal = false;
  std::chrono::seconds refresh_margin{300};
  int max_attempts = 4;  // per operation, first try included
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds timeout{10000};  // per HTTP request
  // Federated apps: where ID tokens come from when credentials must be fetched (a file that
  // something else keeps fresh, an SDK's sign-in). Without it, only Federate() fetches.
  std::function<Result<std::string>()> id_token{};
};

class Client {
 public:
  // `transport`, `time` and `random` default to DefaultTransport(), SystemTime() and
  // SystemRandom().
  [[nodiscard]] static Result<std::unique_ptr<Client>> Create(
      ClientOptions options, std::unique_ptr<StateStore> store,
      std::unique_ptr<Transport> transport = nullptr,
      std::shared_ptr<const TimeSource> time = nullptr,
      std::shared_ptr<RandomSource> random = nullptr);
  virtual ~Client() = default;

  // Anonymous apps: registers this device if it has no id yet (a no-op otherwise).
  [[nodiscard]] virtual Status Register() = 0;
  // Identity apps: logs `username` in and binds this device to them (replacing any earlier
  // login). The password is used for this call only and never stored.
  [[nodiscard]] virtual Status Login(std::string_view username, std::string_view password) = 0;
  // Valid credentials: the cached ones, or fresh ones when those are within the margin of
  // expiring. Anonymous apps register first when needed; identity apps must have logged in.
  [[nodiscard]] virtual Result<Credentials> GetCredentials() = 0;
  // Federated apps: exchanges `id_token` for credentials now and keeps them (the token itself
  // is not kept). kUnauthenticated when the server refuses the token (the message names the
  // reason), kUnavailable when its provider cannot be reached.
  [[nodiscard]] virtual Status Federate(std::string_view id_token) = 0;
  // Federated apps: as Federate, and binds a device to the identity (replacing any earlier
  // binding of this client), so that later credentials come from the device's signed
  // requests: no ID token is needed or sent again until the identity is disabled or the
  // device revoked.
  [[nodiscard]] virtual Status BindDevice(std::string_view id_token) = 0;
  // Fresh credentials now, whatever the cache holds (after an AWS service refused them).
  [[nodiscard]] virtual Result<Credentials> Refresh() = 0;
  // Forgets the device and its credentials (logout). The next call starts afresh.
  [[nodiscard]] virtual Status Forget() = 0;

  // This device's id on the server ("" before it registers or logs in); not a secret.
  virtual std::string DeviceId() const = 0;
  // The region of the last credentials, if the server named it (v2).
  virtual std::string Region() const = 0;
  // Server clock minus this device's clock, as last seen in a `Date` header.
  virtual std::chrono::seconds ClockSkew() const = 0;
};

// Signs `request` for an AWS service with Signature Version 4, so that apps without an AWS
// SDK can use the credentials: adds Host, X-Amz-Date, X-Amz-Content-Sha256,
// X-Amz-Security-Token and Authorization headers. The URL's path and query must already be
// percent-encoded as they will be sent; paths are signed as given (as S3 wants).
[[nodiscard]] Status SignAwsRequest(HttpRequest& request, const Credentials& credentials,
                                    std::string_view region, std::string_view service,
                                    std::chrono::system_clock::time_point now);

// Formats credentials as the JSON an AWS `credential_process` must print.
std::string CredentialProcessJson(const Credentials& credentials);

}  // namespace vendo::client
