#include "http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <stdexcept>
#include <thread>

#include "testing/fixed_clock.h"

namespace vendo::server {
namespace {

using namespace std::chrono;

// 2013-08-08T12:19:56Z, a Thursday.
const system_clock::time_point kThen = system_clock::from_time_t(1375964396);

// A handler whose behaviour each test sets.
class ScriptedHandler final : public Handler {
 public:
  enum class Mode { kAnswer, kThrow, kHold };
  explicit ScriptedHandler(Mode mode) : mode_(mode) {}
  void Handle(HttpRequest, Responder respond) override {
    switch (mode_) {
      case Mode::kAnswer: {
        HttpResponse r;
        r.body = "ok\n";
        respond(std::move(r));
        return;
      }
      case Mode::kThrow:
        throw std::runtime_error("handler blew up");
      case Mode::kHold: {
        std::lock_guard lock(mu_);
        held_.push_back(std::move(respond));  // never answered
        return;
      }
    }
  }
  std::size_t Held() {
    std::lock_guard lock(mu_);
    return held_.size();
  }

 private:
  Mode mode_;
  std::mutex mu_;
  std::vector<Responder> held_;
};

// A server on a free loopback port, run on a thread of its own for one test.
class RunningServer {
 public:
  RunningServer(Handler& handler, const Clock& clock, HttpServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    auto made = HttpServer::Create(options, handler, clock);
    EXPECT_TRUE(made) << made.error().message;
    server_ = std::move(*made);
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~RunningServer() {
    server_->Stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

// Sends `request` and returns what came back until the server closed the connection or went
// quiet for `quiet`.
std::string Exchange(std::uint16_t port, const std::string& request,
                     milliseconds quiet = milliseconds(5000)) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{static_cast<time_t>(quiet.count() / 1000),
             static_cast<suseconds_t>(quiet.count() % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
      got.append(buf, static_cast<std::size_t>(n));
      if (got.find("\r\n\r\n") != std::string::npos && request.find("close") == std::string::npos) {
        break;  // a keep-alive answer: the head is enough here
      }
    }
  }
  close(fd);
  return got;
}

const std::string kGet = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

TEST(HttpServer, TheDateHeaderComesFromTheInjectedClock) {
  FixedClock clock(kThen);
  ScriptedHandler handler(ScriptedHandler::Mode::kAnswer);
  RunningServer server(handler, clock);
  std::string reply = Exchange(server.port(), kGet);
  EXPECT_NE(reply.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Date: Thu, 08 Aug 2013 12:19:56 GMT\r\n"), std::string::npos) << reply;
}

TEST(HttpServer, TheHandlerDeadlineCountsOnTheInjectedClock) {
  // An hour-long handler timeout that the test's clock passes at once: the held request is
  // answered for its handler (503, Retry-After) without an hour's wait.
  FixedClock clock(kThen);
  ScriptedHandler handler(ScriptedHandler::Mode::kHold);
  HttpServerOptions options;
  options.handler_timeout = hours(1);
  options.first_byte_timeout = milliseconds(200);  // a 50 ms watchdog tick
  RunningServer server(handler, clock, options);
  std::thread advance([&] {
    for (int i = 0; i < 200 && handler.Held() == 0; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    clock.Advance(hours(1) + seconds(1));
  });
  std::string reply = Exchange(server.port(), kGet);
  advance.join();
  EXPECT_EQ(handler.Held(), 1u);
  EXPECT_NE(reply.find("HTTP/1.1 503 Service Unavailable\r\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Retry-After: 1\r\n"), std::string::npos) << reply;
}

TEST(HttpServer, AnExceptionThatEndsAConnectionIsLogged) {
  FixedClock clock(kThen);
  ScriptedHandler handler(ScriptedHandler::Mode::kThrow);
  ::testing::internal::CaptureStderr();
  std::string reply;
  {
    RunningServer server(handler, clock);
    reply = Exchange(server.port(), kGet);
  }
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(reply, "");  // the connection closed without an answer
  EXPECT_NE(log.find("a coroutine ended with an exception"), std::string::npos) << log;
  EXPECT_NE(log.find("handler blew up"), std::string::npos) << log;
}

}  // namespace
}  // namespace vendo::server
