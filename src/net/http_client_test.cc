#include "net/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <future>
#include <thread>

#include "testing/error_is.h"
#include "testing/temp_dir.h"

using vendo::testing::ErrorIs;

namespace vendo::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// A loopback HTTP(S) server for the client to talk to. Paths:
//   /hang   reads the request and never answers
//   /close  answers with "Connection: close"
//   /drop   answers as keep-alive, then closes the connection anyway (as idle servers do)
//   /big    answers with 64 KiB
//   /slow   echoes after 300 ms
//   other   echoes "METHOD PATH BODY" and the Host header as X-Host
class TestServer {
 public:
  explicit TestServer(const std::string& cert = "", const std::string& key = "") {
    if (!cert.empty()) {
      tls_.emplace(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(cert);
      tls_->use_private_key_file(key, asio::ssl::context::pem);
    }
    acceptor_.open(tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(ioc_, Accept(this), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestServer() {
    ioc_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_.load(); }

 private:
  static asio::awaitable<void> Accept(TestServer* self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor_.async_accept(kTuple);
      if (ec) {
        co_return;
      }
      self->accepted_.fetch_add(1);
      asio::co_spawn(self->ioc_, Session(self, std::move(socket)), asio::detached);
    }
  }

  static asio::awaitable<void> Session(TestServer* self, tcp::socket socket) {
    if (self->tls_) {
      asio::ssl::stream<tcp::socket&> stream(socket, *self->tls_);
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
      if (!ec) {
        co_await Serve(stream);
      }
    } else {
      co_await Serve(socket);
    }
  }

  template <class Stream>
  static asio::awaitable<void> Serve(Stream& stream) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      auto [ec, n] = co_await http::async_read(stream, buffer, request, kTuple);
      if (ec) {
        co_return;
      }
      if (request.target() == "/hang") {
        continue;  // the next read waits until the client gives up and closes
      }
      if (request.target() == "/slow") {
        asio::steady_timer pause(co_await asio::this_coro::executor,
                                 std::chrono::milliseconds(300));
        co_await pause.async_wait(kTuple);
      }
      http::response<http::string_body> response{http::status::ok, 11};
      if (request.target() == "/big") {
        response.body() = std::string(65536, 'x');
      } else {
        response.body() = std::string(request.method_string()) + " " +
                          std::string(request.target()) + " " + request.body();
        response.set("X-Host", request[http::field::host]);
      }
      bool close = request.target() == "/close";
      response.keep_alive(!close);
      response.prepare_payload();
      auto [wec, w] = co_await http::async_write(stream, response, kTuple);
      if (wec || close || request.target() == "/drop") {
        co_return;
      }
    }
  }

  asio::io_context ioc_{1};
  std::optional<asio::ssl::context> tls_;
  tcp::acceptor acceptor_{ioc_};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

HttpCall Call(std::uint16_t port, std::string path, bool tls = false,
              std::string host = "127.0.0.1") {
  HttpCall call;
  call.host = std::move(host);
  call.port = port;
  call.tls = tls;
  call.path = std::move(path);
  call.body = "hello";
  call.timeout = std::chrono::milliseconds(3000);
  return call;
}

Result<HttpReply> SendAndWait(HttpClient& client, HttpCall call) {
  std::promise<Result<HttpReply>> promise;
  auto future = promise.get_future();
  client.Send(std::move(call),
              [&promise](Result<HttpReply> r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::unique_ptr<HttpClient> MakeClient(const HttpClientOptions& options = {}) {
  auto client = HttpClient::Create(options);
  EXPECT_TRUE(client.has_value());
  return std::move(*client);
}

TEST(HttpClient, PostsAndReadsTheReply) {
  TestServer server;
  auto client = MakeClient();
  auto reply = SendAndWait(*client, Call(server.port(), "/echo"));
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "POST /echo hello");
  EXPECT_EQ(reply->Header("x-host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(reply->Header("Content-Length"), "16");
}

TEST(HttpClient, ReusesKeepAliveConnections) {
  TestServer server;
  auto client = MakeClient();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(SendAndWait(*client, Call(server.port(), "/echo")));
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client->Stats().connections_opened, 1u);
  EXPECT_EQ(client->Stats().connections_reused, 4u);
}

TEST(HttpClient, OpensANewConnectionWhenTheServerClosesIt) {
  TestServer server;
  auto client = MakeClient();
  ASSERT_TRUE(SendAndWait(*client, Call(server.port(), "/close")));
  ASSERT_TRUE(SendAndWait(*client, Call(server.port(), "/echo")));
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClient, ReplacesAKeptConnectionTheServerDropped) {
  TestServer server;
  auto client = MakeClient();
  ASSERT_TRUE(SendAndWait(*client, Call(server.port(), "/drop")));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the FIN arrive
  auto reply = SendAndWait(*client, Call(server.port(), "/echo"));
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(client->Stats().connections_reused, 1u);
}

TEST(HttpClient, BoundsConnectionsPerHostAndQueuesTheRest) {
  TestServer server;
  HttpClientOptions options;
  options.max_connections_per_host = 2;
  auto client = MakeClient(options);
  constexpr int kCalls = 20;
  std::atomic<int> ok{0};
  std::promise<void> all_done;
  std::atomic<int> left{kCalls};
  for (int i = 0; i < kCalls; ++i) {
    client->Send(Call(server.port(), "/echo"), [&](Result<HttpReply> r) {
      ok += r.has_value() ? 1 : 0;
      if (--left == 0) {
        all_done.set_value();
      }
    });
  }
  all_done.get_future().get();
  EXPECT_EQ(ok.load(), kCalls);
  EXPECT_LE(server.accepted(), 2);
  EXPECT_GT(client->Stats().calls_queued, 0u);
}

TEST(HttpClient, TimesOutAHangingServer) {
  TestServer server;
  auto client = MakeClient();
  HttpCall call = Call(server.port(), "/hang");
  call.timeout = std::chrono::milliseconds(200);
  auto started = std::chrono::steady_clock::now();
  auto reply = SendAndWait(*client, call);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, ErrorCode::kDeadlineExceeded) << reply.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  // The hung connection is not reused: the next call works on a fresh one.
  auto next = SendAndWait(*client, Call(server.port(), "/echo"));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClient, AQueuedCallTimesOutWhenNoConnectionFreesUp) {
  TestServer server;
  HttpClientOptions options;
  options.max_connections_per_host = 1;
  auto client = MakeClient(options);
  HttpCall hang = Call(server.port(), "/hang");
  hang.timeout = std::chrono::milliseconds(2000);
  std::promise<Result<HttpReply>> hung;
  client->Send(hang, [&hung](Result<HttpReply> r) { hung.set_value(std::move(r)); });
  HttpCall queued = Call(server.port(), "/echo");
  queued.timeout = std::chrono::milliseconds(200);
  auto started = std::chrono::steady_clock::now();
  auto reply = SendAndWait(*client, queued);
  ASSERT_FALSE(reply);
  EXPECT_THAT(reply, ErrorIs(ErrorCode::kDeadlineExceeded));
  EXPECT_NE(reply.error().message.find("waiting for one of 1 connections"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
  EXPECT_FALSE(hung.get_future().get());
}

TEST(HttpClient, TheWaitForAConnectionIsNotChargedToTheExchange) {
  TestServer server;
  HttpClientOptions options;
  options.max_connections_per_host = 1;
  auto client = MakeClient(options);
  // Two calls on one connection, each answered in 300 ms with 450 ms for its exchange: the
  // second waits 300 ms for the connection first, and must still get its 450 ms.
  std::promise<Result<HttpReply>> first, second;
  for (auto* p : {&first, &second}) {
    HttpCall call = Call(server.port(), "/slow");
    call.timeout = std::chrono::milliseconds(450);
    call.overall_timeout = std::chrono::milliseconds(2000);
    client->Send(call, [p](Result<HttpReply> r) { p->set_value(std::move(r)); });
  }
  auto a = first.get_future().get();
  auto b = second.get_future().get();
  EXPECT_TRUE(a) << a.error().message;
  EXPECT_TRUE(b) << b.error().message;
}

TEST(HttpClient, RefusedConnectionIsUnavailable) {
  std::uint16_t port = 0;
  {
    TestServer server;  // take a free port, then close it
    port = server.port();
  }
  auto client = MakeClient();
  auto reply = SendAndWait(*client, Call(port, "/echo"));
  ASSERT_FALSE(reply);
  EXPECT_THAT(reply, ErrorIs(ErrorCode::kUnavailable));
  EXPECT_NE(reply.error().message.find("connect 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << reply.error().message;
}

TEST(HttpClient, RejectsResponsesOverTheLimit) {
  TestServer server;
  HttpClientOptions options;
  options.max_response_bytes = 1024;
  auto client = MakeClient(options);
  auto reply = SendAndWait(*client, Call(server.port(), "/big"));
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("larger than 1024"), std::string::npos);
}

TEST(HttpClient, SchedulerRunsTasksAfterTheirDelay) {
  auto client = MakeClient();
  std::promise<std::chrono::steady_clock::time_point> ran;
  auto start = std::chrono::steady_clock::now();
  client->After(std::chrono::milliseconds(50),
                [&ran] { ran.set_value(std::chrono::steady_clock::now()); });
  EXPECT_GE(ran.get_future().get() - start, std::chrono::milliseconds(50));
}

class HttpClientTls : public ::testing::Test {
 protected:
  void SetUp() override { MakeCert("DNS:localhost,IP:127.0.0.1"); }

  void MakeCert(const std::string& names) {
    cert_ = dir_.File("cert.pem");
    key_ = dir_.File("key.pem");
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
        "-subj /CN=vendo-test -addext subjectAltName=" +
        names + " -keyout " + key_ + " -out " + cert_ + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl must be installed";
  }
  testing::TempDir dir_;
  std::string cert_;
  std::string key_;
};

TEST_F(HttpClientTls, VerifiesTheCertificateAgainstTheCaFile) {
  TestServer server(cert_, key_);
  HttpClientOptions options;
  options.ca_file = cert_;
  auto client = MakeClient(options);
  for (const char* host : {"127.0.0.1", "localhost"}) {
    auto reply = SendAndWait(*client, Call(server.port(), "/echo", true, host));
    ASSERT_TRUE(reply) << host << ": " << reply.error().message;
    EXPECT_EQ(reply->body, "POST /echo hello");
  }
  ASSERT_TRUE(SendAndWait(*client, Call(server.port(), "/echo", true)));
  EXPECT_EQ(server.accepted(), 2);  // one per host name; the second 127.0.0.1 call reused
}

TEST_F(HttpClientTls, RejectsAnUntrustedCertificate) {
  TestServer server(cert_, key_);
  auto client = MakeClient();  // system trust store: the self-signed cert is not in it
  auto reply = SendAndWait(*client, Call(server.port(), "/echo", true));
  ASSERT_FALSE(reply);
  EXPECT_THAT(reply, ErrorIs(ErrorCode::kUnavailable));
  EXPECT_NE(reply.error().message.find("certificate rejected"), std::string::npos)
      << reply.error().message;
}

TEST_F(HttpClientTls, RejectsACertificateForAnotherName) {
  MakeCert("DNS:sts.example.com");  // trusted, but not for 127.0.0.1
  TestServer server(cert_, key_);
  HttpClientOptions options;
  options.ca_file = cert_;
  auto client = MakeClient(options);
  auto reply = SendAndWait(*client, Call(server.port(), "/echo", true));
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("certificate rejected"), std::string::npos)
      << reply.error().message;
}

TEST(HttpClientCreate, FailsOnAMissingCaFile) {
  HttpClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  auto client = HttpClient::Create(options);
  ASSERT_FALSE(client);
  EXPECT_NE(client.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace vendo::net
