// The I/O boundaries of the STS client: an HTTP transport and a timer. The real ones (Beast
// and OpenSSL, Asio timers) come with the HTTPS client; tests inject fakes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "vendo/result.h"

namespace vendo::sts {

struct HttpCall {
  std::string host;  // name or address, without port
  std::uint16_t port = 443;
  bool tls = true;
  std::string method = "POST";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // for this attempt
};

struct HttpReply {
  int status = 0;
  std::string body;
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

}  // namespace vendo::sts
