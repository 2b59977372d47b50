// HttpServer: HTTP/1.1 (and HTTPS) on Boost.Beast with C++20 coroutines. This header keeps
// Beast and Asio out of everything that includes it.
//
// One io_context per thread; one acceptor hands connections out round-robin. Limits: request
// line and headers (414/431), body (413), first-byte, header and idle timeouts, a connection
// cap and a cap per client address (503 on plain HTTP; on TLS the excess is just closed).
// SIGHUP reloads the TLS certificate and key for new connections (open ones keep theirs).
// SIGTERM or SIGINT (or Stop()) starts a drain: no new connections, idle keep-alive
// connections close, in-flight requests finish (up to drain_timeout), then Run() returns.
// Each request is logged as one JSON line (no query string: it carries keys). The listener
// is http_server.cc, one connection's requests connection.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/task_runner.h"
#include "http/http_options.h"
#include "http/http_types.h"
#include "metrics/metrics.h"
#include "vendo/result.h"

namespace vendo::server {

class HttpServer {
 public:
  // Binds the listener (port 0 picks a free port). Fails if it cannot bind or load TLS files.
  // `clock` gives the Date header and measures every deadline and latency; both outlive the
  // server.
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options,
                                                                  Handler& handler,
                                                                  const Clock& clock);
  ~HttpServer();

  std::uint16_t port() const;
  bool tls() const;
  // Serves until a signal or Stop(), drains, and returns. Call once.
  void Run();
  // Starts the drain from any thread.
  void Stop();

  struct Impl;  // opaque: its two halves share it through http/server_impl.h

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A fixed pool of threads for blocking work (store writes).
class ThreadPoolRunner final : public TaskRunner {
 public:
  explicit ThreadPoolRunner(std::size_t threads);
  ~ThreadPoolRunner() override;  // waits for queued tasks
  void Post(std::function<void()> task) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vendo::server
