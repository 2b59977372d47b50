// HttpClient: outbound HTTP/1.1 and HTTPS on Boost.Beast and OpenSSL, for STS, the ECS and
// EC2 metadata endpoints and the like. This header keeps Beast and Asio out of its users.
//
// - HTTPS verifies the server's certificate against the system trust store (or `ca_file`)
//   and its name (DNS name or IP address), and sends SNI. Plain HTTP only when a call says
//   so (`tls = false`, an http:// endpoint).
// - Connect (resolve, TCP, TLS handshake) has its own timeout; each exchange has `timeout`,
//   counted from when it gets a connection (a wait for one is not charged to it), within the
//   call's `overall_timeout`.
// - Keep-alive connections are reused, per (scheme, host, port): at most
//   `max_connections_per_host` open at once (further calls wait their turn) and at most
//   `max_idle_per_host` kept idle, each for at most `idle_timeout`. A reused connection that
//   the server had closed is replaced once, transparently.
// - Responses are limited to `max_response_bytes`.
//
// It owns one I/O thread. Send() and After() are thread-safe; callbacks run on that thread
// and must not block. Destroying the client stops the thread: calls still in flight are
// dropped without their callbacks, so destroy it after everything that uses it.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "net/transport.h"

namespace vendo::net {

struct HttpClientOptions {
  std::string ca_file;  // PEM bundle; empty = the system trust store
  std::size_t max_connections_per_host = 16;
  std::size_t max_idle_per_host = 4;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds idle_timeout{30000};
  std::size_t max_response_bytes = 1 << 20;
};

// Counters for tests and metrics.
struct HttpClientStats {
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_reused = 0;
  std::uint64_t calls_queued = 0;  // waited for a free connection slot
};

class HttpClient final : public HttpTransport, public Scheduler {
 public:
  // Fails when the CA file cannot be read or the trust store cannot be loaded.
  [[nodiscard]] static Result<std::unique_ptr<HttpClient>> Create(const HttpClientOptions& options);
  ~HttpClient() override;

  void Send(HttpCall call, std::function<void(Result<HttpReply>)> done) override;
  void After(std::chrono::milliseconds delay, std::function<void()> task) override;

  HttpClientStats Stats() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vendo::net
