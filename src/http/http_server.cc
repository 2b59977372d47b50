// The listener half of HttpServer: the threads and their io_contexts, the acceptor and its
// connection caps, TLS and its reload, and the drain. Each accepted connection is served by
// connection.cc.
#include "http/http_server.h"

#include <thread>

#include "common/address_key.h"
#include "common/log.h"
#include "http/server_impl.h"

namespace vendo::server {
namespace {

// TLS 1.2 and 1.3 only; for 1.2, forward-secret AEAD suites only (Mozilla's "intermediate").
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const HttpServerOptions& o) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression);
  if (SSL_CTX_set_cipher_list(ctx->native_handle(), kTls12Ciphers) != 1) {
    return Fail(ErrorCode::kInternal, "TLS: cipher list rejected");
  }
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (!ec) {
    ctx->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
  }
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument, "TLS certificate or key: " + ec.message());
  }
  if (!o.tls_client_ca_file.empty()) {
    ctx->load_verify_file(o.tls_client_ca_file, ec);
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument, "TLS client CA: " + ec.message());
    }
    ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

// Posts to one network thread's io_context.
class IoContextRunner final : public TaskRunner {
 public:
  explicit IoContextRunner(asio::io_context& ctx) : ctx_(ctx) {}
  void Post(std::function<void()> task) override { asio::post(ctx_, std::move(task)); }

 private:
  asio::io_context& ctx_;
};

// Runs `ctx` on the calling thread, which is a network thread meanwhile.
void RunNetworkThread(asio::io_context& ctx) {
  IoContextRunner runner(ctx);
  NetworkThreadScope scope(runner);
  ctx.run();
}

}  // namespace

asio::awaitable<void> HttpServer::Impl::AcceptLoop() {
  for (;;) {
    auto [ec, accepted] = co_await acceptor->async_accept(kTuple);
    if (draining.load()) {
      co_return;
    }
    if (ec) {
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      // Out of file descriptors and the like: back off briefly instead of spinning.
      LogLine(LogLevel::kWarn, "accept failed").Str("error", ec.message()).Emit();
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    // The thread on the CPU that receives the connection's packets when threads are pinned;
    // otherwise (or if the kernel does not say) each thread in turn.
    std::size_t pick = next_context++ % contexts.size();
    if (plan) {
      if (auto cpu = IncomingCpu(accepted.native_handle())) {
        pick = plan->ThreadFor(*cpu).value_or(pick);
      }
      pick = KeepBalanced(pick, Loads());
    }
    asio::io_context& ctx = *contexts[pick];
    boost::system::error_code mec;
    auto peer = accepted.remote_endpoint(mec);
    std::string address = mec ? "" : peer.address().to_string();
    auto socket = MoveToContext(accepted, ctx, mec);
    if (!socket) {
      LogLine(LogLevel::kWarn, "accepted connection lost").Str("error", mec.message()).Emit();
      continue;
    }
    if (active.load() >= options.max_connections) {
      LogRefusal("server.max_connections", address);
      asio::co_spawn(ctx, Reject(std::move(*socket)),
                     [](const std::exception_ptr& e) { LogIfThrown("connection refusal", e); });
      continue;
    }
    auto slot = TakeAddressSlot(address);
    if (!slot) {
      LogRefusal("server.max_connections_per_address", address);
      asio::co_spawn(ctx, Reject(std::move(*socket)),
                     [](const std::exception_ptr& e) { LogIfThrown("connection refusal", e); });
      continue;
    }
    active.fetch_add(1);
    Spawn(std::move(*socket), pick, true, *slot);
  }
}

std::optional<std::string> HttpServer::Impl::TakeAddressSlot(const std::string& address) {
  if (address.empty() || IsLoopback(address) || proxies.Contains(address)) {
    return std::string();
  }
  return per_address.Open(address);
}

void HttpServer::Impl::LogRefusal(std::string_view why, const std::string& address) {
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock.Steady().time_since_epoch()).count();
  auto last = last_refusal_log.load(std::memory_order_relaxed);
  if (now == last || !last_refusal_log.compare_exchange_strong(last, now)) {
    return;  // a flood of refusals logs one line a second
  }
  LogLine(LogLevel::kWarn, "connection refused: at its cap")
      .Str("cap", why)
      .Str("client", address)
      .Int("connections", active.load())
      .Emit();
}

asio::awaitable<void> HttpServer::Impl::Reject(tcp::socket socket) {
  boost::system::error_code ignored;
  if (CurrentTls()) {
    socket.close(ignored);
    co_return;
  }
  static const std::string kBusy = [] {
    std::string body = "too many connections\r\n";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=UTF-8\r\n"
           "Connection: close\r\nRetry-After: 1\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  (void)co_await asio::async_write(socket, asio::buffer(kBusy), kTuple);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

void HttpServer::Impl::BeginDrain() {
  if (draining.exchange(true)) {
    return;
  }
  LogLine(LogLevel::kInfo, "draining").Int("connections", active.load()).Emit();
  boost::system::error_code ec;
  acceptor->close(ec);
  signals->cancel(ec);
  reload_signals->cancel(ec);
  {
    std::lock_guard lock(sessions_mu);
    for (auto& [raw, weak] : sessions) {
      if (auto s = weak.lock()) {
        // An idle keep-alive connection may have a request on its way: it gets a short grace
        // to arrive (and is answered with Connection: close) before the watchdog closes it.
        asio::post(s->executor, [s, grace = options.drain_idle_grace, &clock = clock] {
          if (!s->closed && !s->busy) {
            s->ExpireIn(grace, clock.Steady());
          }
        });
      }
    }
  }
  if (active.load() == 0) {
    StopAll();
    return;
  }
  drain_timer.emplace(*contexts[0], options.drain_timeout);
  drain_timer->async_wait([this](const boost::system::error_code& e) {
    if (!e) {
      LogLine(LogLevel::kWarn, "drain timeout; closing remaining connections")
          .Int("connections", active.load())
          .Emit();
      StopAll();
    }
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options,
                                                       Handler& handler, const Clock& clock) {
  auto impl = std::make_unique<Impl>(options, handler, clock);
  auto proxies = TrustedProxies::Parse(options.trusted_proxies);
  if (!proxies) {
    return Fail(ErrorCode::kInvalidArgument, "trusted_proxies: " + proxies.error().message);
  }
  impl->proxies = std::move(*proxies);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument,
                "listen address " + options.host + ": " + ec.message());
  }
  tcp::endpoint endpoint(address, options.port);
  auto& acc = *impl->acceptor;
  if (acc.open(endpoint.protocol(), ec); !ec) {
    acc.set_option(asio::socket_base::reuse_address(true), ec);
    acc.bind(endpoint, ec);
  }
  if (!ec) {
    acc.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Fail(ErrorCode::kUnavailable, "cannot listen on " + options.host + ":" +
                                             std::to_string(options.port) + ": " + ec.message());
  }
  if (!options.tls_cert_file.empty()) {
    auto ctx = MakeTlsContext(options);
    if (!ctx) {
      return std::unexpected(ctx.error());
    }
    impl->tls = std::move(*ctx);
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Impl::WaitForReload() {
  reload_signals->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) {
      return;  // draining
    }
    auto fresh = MakeTlsContext(options);
    if (!fresh) {
      LogLine(LogLevel::kError, "TLS reload failed; keeping the current certificate")
          .Str("error", fresh.error().message)
          .Emit();
    } else {
      std::lock_guard lock(tls_mu);
      tls = std::move(*fresh);
      LogLine(LogLevel::kInfo, "TLS certificate reloaded")
          .Str("cert", options.tls_cert_file)
          .Emit();
    }
    WaitForReload();
  });
}

std::uint16_t HttpServer::port() const { return impl_->acceptor->local_endpoint().port(); }
bool HttpServer::tls() const { return !impl_->options.tls_cert_file.empty(); }

void HttpServer::Run() {
  Impl& s = *impl_;
  s.signals->async_wait([&s](const boost::system::error_code& ec, int) {
    if (!ec) {
      s.BeginDrain();
    }
  });
  if (s.tls) {
    s.WaitForReload();
  }
  asio::co_spawn(*s.contexts[0], s.AcceptLoop(),
                 [](const std::exception_ptr& e) { LogIfThrown("acceptor", e); });
  std::vector<std::thread> threads;
  auto pin = [&s](std::size_t i) {
    if (s.plan && !PinThisThread(s.plan->CpuOf(i))) {
      LogLine(LogLevel::kWarn, "could not pin a network thread; it runs on any CPU")
          .Int("thread", static_cast<std::int64_t>(i))
          .Int("cpu", s.plan->CpuOf(i))
          .Emit();
    }
  };
  for (std::size_t i = 1; i < s.contexts.size(); ++i) {
    threads.emplace_back([&s, i, pin] {
      pin(i);
      RunNetworkThread(*s.contexts[i]);
    });
  }
  pin(0);
  RunNetworkThread(*s.contexts[0]);
  for (auto& t : threads) {
    t.join();
  }
}

HttpResponse Handler::Overdue(std::string_view) const {
  HttpResponse r;
  r.status = 503;
  r.body = "the request took too long; retry shortly\n";
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

void HttpServer::Stop() {
  asio::post(*impl_->contexts[0], [this] { impl_->BeginDrain(); });
}

struct ThreadPoolRunner::Impl {
  explicit Impl(std::size_t n) : pool(n) {}
  asio::thread_pool pool;
};

ThreadPoolRunner::ThreadPoolRunner(std::size_t threads)
    : impl_(std::make_unique<Impl>(std::max<std::size_t>(1, threads))) {}

ThreadPoolRunner::~ThreadPoolRunner() { impl_->pool.join(); }

void ThreadPoolRunner::Post(std::function<void()> task) {
  asio::post(impl_->pool, std::move(task));
}

}  // namespace vendo::server
