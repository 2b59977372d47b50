// Protocol v2 (docs/protocol-v2.md), free of HTTP: anonymous device registration with
// server-made secrets; identity sign-up (argon2id) and login (a new device bound to the user);
// signed requests (timestamp window, single-use nonces in the store, so replays are refused on
// every host) for tokens, secret rotation and self-revocation. The token vend itself is
// vend.h's; web/error_mapping.cc maps a V2Failure to its HTTP answer.
#pragma once

#include <algorithm>
#include <chrono>
#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "common/clock.h"
#include "common/concurrency_limit.h"
#include "common/encoding.h"
#include "common/random.h"
#include "issuer/issuer.h"
#include "store/store.h"
#include "vending/app.h"
#include "vending/undo.h"
#include "vending/vend.h"
#include "vendo/credentials.h"

namespace vendo::server {

enum class V2Code {
  kInvalidRequest,
  kInvalidSignature,
  kInvalidCredentials,
  kUsernameTaken,
  kExpiredTimestamp,
  kReplayedRequest,
  kDeviceRevoked,
  kUserDisabled,
  kNotFound,
  kWrongMode,
  kRateLimited,
  kInternalError,
  kIssuerUnavailable,
  kUnsupportedMediaType,  // a JSON endpoint called without Content-Type: application/json
  kForbiddenOrigin,       // a browser page of a site the app does not list in allowed_origins
  kServerBusy,            // every password-hashing slot is taken: retry after a moment
  kInvalidToken,          // federate: the ID token is refused (`reason` says which check)
  kProviderUnavailable,   // federate: no keys of the token's provider can be had now
};

struct V2Failure {
  V2Code code;
  std::string message;            // for the client: says what to fix, nothing more
  std::int64_t skew_seconds = 0;  // kExpiredTimestamp: client clock minus server clock
  std::int64_t retry_after = 0;   // kRateLimited, kIssuerUnavailable, kProviderUnavailable
  std::string_view reason = {};   // kInvalidToken: a stable name ("expired", "unknown_key")
};

template <class T>
using V2Result = std::expected<T, V2Failure>;

struct V2Registration {
  std::string device_id;
  std::string device_secret;  // base64url; returned once
};

struct V2Login {
  std::string device_id;
  std::string device_secret;  // base64url; returned once
  std::string user_id;
};

// What sealing a v2 answer needs once the request has gone to the issuer.
struct V2SealKey {
  SecretString secret;  // the device secret (raw bytes)
  std::string device_id;
  std::string nonce;
  bool seal = false;  // the device asked for a sealed answer
};

struct V2Grant {
  issuer::IssueRequest request;
  V2SealKey answer;
};

class V2Service {
 public:
  // `max_hashing`: how many argon2id computations may run at once (0: one per core); a sign-up
  // or login beyond that is answered 503 server_busy with Retry-After at once.
  V2Service(store::Store& store, const Clock& clock, Random& random,
            std::chrono::seconds window = std::chrono::seconds(300), std::size_t max_hashing = 0)
      : store_(store),
        clock_(clock),
        random_(random),
        window_(window),
        hashing_(max_hashing != 0 ? max_hashing
                                  : std::max(1u, std::thread::hardware_concurrency())) {}

  // On success `undo` deletes the device again.
  [[nodiscard]] V2Result<V2Registration> RegisterDevice(const App& app, Undo* undo = nullptr);
  // Identity apps: a new user (argon2id), and a login that binds a new device to the user.
  // `username_out` names the user a login was for (for limits and the audit log); `allowed`
  // runs before the password is checked (lockouts).
  // SignUp returns the user id, and sets `undo` to delete the user again.
  [[nodiscard]] V2Result<std::string> SignUp(const App& app, std::string_view body,
                                             Undo* undo = nullptr);
  // On success a login's `undo` deletes the device it bound.
  [[nodiscard]] V2Result<V2Login> Login(
      const App& app, std::string_view body, std::string& username_out,
      const std::function<Status(std::string_view username)>& allowed, Undo* undo = nullptr);
  [[nodiscard]] V2Result<V2Grant> AuthorizeToken(const App& app, std::string_view method,
                                                 std::string_view path, std::string_view body,
                                                 std::string_view authorization);
  // Signed requests about the device itself: a new secret (the old one stops working; `undo`
  // puts the old one back), or revocation (returns the device id). A revocation cannot be
  // taken back, so `before_commit` runs once the request is verified, before the device is
  // revoked: when it fails, nothing is revoked and the failure is returned as an internal
  // error.
  [[nodiscard]] V2Result<V2Registration> RotateSecret(const App& app, std::string_view method,
                                                      std::string_view path, std::string_view body,
                                                      std::string_view authorization,
                                                      Undo* undo = nullptr);
  [[nodiscard]] V2Result<std::string> RevokeSelf(
      const App& app, std::string_view method, std::string_view path, std::string_view body,
      std::string_view authorization,
      const std::function<Status(std::string_view device_id)>& before_commit);
  // The server's time as a refusal of a stale timestamp states it (the injected clock's).
  std::string ServerTime() const;
  // The credentials as JSON, sealed when the request asked.
  // `bound`: a device just bound (federate with bind_device), whose id and secret the
  // answer also carries.
  [[nodiscard]] V2Result<std::string> CredentialsBody(const V2SealKey& key,
                                                      const Credentials& creds,
                                                      std::string_view region,
                                                      const V2Registration* bound = nullptr);

 private:
  struct Verified {
    store::DeviceRecord device;
    Bytes secret;
    std::string nonce;
  };
  // Checks the signature, the timestamp window and the nonce (recording it) of a request.
  [[nodiscard]] V2Result<Verified> Verify(const App& app, std::string_view method,
                                          std::string_view path, std::string_view body,
                                          std::string_view authorization);

  store::Store& store_;
  const Clock& clock_;
  Random& random_;
  std::chrono::seconds window_;
  ConcurrencyLimit hashing_;  // argon2id computations running now
};

// The v2 error for a dependency that failed (the store, password hashing): 503 with
// Retry-After when it is unavailable or too slow, 500 for anything else.
V2Failure V2FailureOf(const Error& error);
// The v2 error for a request an abuse limit refused: 429 `message` with its Retry-After when
// over the limit; when the store that counts could not be reached, what any store failure is.
V2Failure V2LimitFailure(const Error& error, std::string message);
// The v2 error for a vend that failed at `failure.step`.
V2Failure V2VendFailure(const VendFailure& failure);
std::string_view V2CodeName(V2Code code);
// Takes back a device just made (deletes it): a registration, login or binding whose audit
// line or answer could not be had.
Undo DeleteDeviceUndo(store::Store& store, const App& app, std::string id);
// "d_" and 26 characters of Crockford base32 from 16 random bytes.
std::string NewDeviceId(Random& random);

}  // namespace vendo::server
