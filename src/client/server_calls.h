// ServerCalls: a client's exchanges with the vendo server, in both protocols: device
// registration, login, federation and token requests. Each is retried as client.h says
// (network errors, 5xx and 429, capped exponential backoff with jitter) and signed with the
// server's time as its Date headers show it. It keeps nothing but that clock skew: the State
// each call reads and changes is the caller's. Client (client.cc) runs one call at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/random.h"
#include "vendo/client.h"

namespace vendo::client {

// Errors worth asking again for later: the server down, slow or busy.
bool Transient(ErrorCode code);

// The client's RandomSource seen as vendo's Random (its Hex and Bytes helpers).
class SourceRandom final : public Random {
 public:
  explicit SourceRandom(std::shared_ptr<RandomSource> source) : source_(std::move(source)) {}
  void Fill(std::span<std::uint8_t> out) override { source_->Fill(out); }

 private:
  std::shared_ptr<RandomSource> source_;
};

class ServerCalls {
 public:
  // `options` must outlive the calls (the Client owns both).
  ServerCalls(const ClientOptions& options, std::unique_ptr<Transport> transport,
              std::shared_ptr<const TimeSource> time, std::shared_ptr<RandomSource> random)
      : opt_(options),
        transport_(std::move(transport)),
        time_(std::move(time)),
        random_(std::move(random)) {}

  // The server's time, as its last Date header put it against this device's clock.
  std::chrono::system_clock::time_point ServerNow() const {
    return time_->Now() + std::chrono::seconds(skew_.load());
  }
  std::chrono::seconds Skew() const { return std::chrono::seconds(skew_.load()); }

  // Anonymous apps: a new device; its id and secret go into `s`.
  [[nodiscard]] Status RegisterDevice(State& s);
  // Identity apps: a login that binds a new device to the user.
  [[nodiscard]] Status LoginDevice(State& s, std::string_view username, std::string_view password);
  // Credentials for the device (or, federated, for a fresh ID token from options.id_token);
  // an anonymous device the server has forgotten registers again, once.
  [[nodiscard]] Result<Credentials> FetchToken(State& s);
  // POST federate with `id_token`: credentials, or the server's refusal (an ID token it does
  // not take is kUnauthenticated, its provider out of reach kUnavailable).
  [[nodiscard]] Result<Credentials> RequestFederated(State& s, const std::string& id_token,
                                                     bool bind);

 private:
  void NoteDate(const HttpResponse& r);
  // Sends the request `make` builds (again for each attempt: signatures hold a timestamp and
  // a nonce), retrying network errors, 5xx and 429 with capped exponential backoff and jitter.
  Result<HttpResponse> Call(const std::function<HttpRequest()>& make);
  std::int64_t Jitter(std::int64_t below);
  std::string V2Path(std::string_view what) const;
  std::string V2Url(std::string_view what) const;
  std::string LegacyBase() const;
  static HttpRequest Json(std::string url, std::string body);
  // POSTs a v2 registration or login; keeps the device id and secret the server answers with.
  Status V2DeviceGrant(std::string_view what, const std::string& body, int expected, State& s);
  // One token request, re-signed once when the server says our timestamp was off. A device
  // the server does not know is kNotFound.
  Result<Credentials> RequestToken(State& s);
  Result<Credentials> RequestTokenV2(State& s);
  Result<Credentials> RequestTokenLegacy(State& s);

  const ClientOptions& opt_;
  std::unique_ptr<Transport> transport_;
  std::shared_ptr<const TimeSource> time_;
  SourceRandom random_;
  std::atomic<std::int64_t> skew_{0};
};

}  // namespace vendo::client
