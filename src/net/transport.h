// Outbound I/O boundaries: an HTTP transport and a timer. The real ones are in
// net/http_client.h (Beast, OpenSSL, Asio timers); tests inject fakes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "vendo/result.h"

namespace vendo::net {

struct HttpCall {
  std::string host;  // name or address, without port
  std::uint16_t port = 443;
  bool tls = true;
  std::string method = "POST";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // for the exchange: connect, send, answer
  // The whole call, a wait for a free pooled connection included: the exchange gets its
  // `timeout` from when it starts, but never past this. 0: `timeout`.
  std::chrono::milliseconds overall_timeout{0};
};

struct HttpReply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as received

  // The first header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (EqualsIgnoreCase(k, name)) {
        return v;
      }
    }
    return {};
  }
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends `call`; `done` runs once, on any thread. Network failures and timeouts are errors
  // (kUnavailable, kDeadlineExceeded); any HTTP status is a reply.
  virtual void Send(HttpCall call, std::function<void(Result<HttpReply>)> done) = 0;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Runs `task` after `delay`, on any thread.
  virtual void After(std::chrono::milliseconds delay, std::function<void()> task) = 0;
};

}  // namespace vendo::net
