#include "net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/log.h"

namespace vendo::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxResponseHeaderBytes = 16384;

struct Connection {
  explicit Connection(asio::io_context& ioc) : tcp(ioc) {}
  beast::tcp_stream tcp;
  std::optional<ssl::stream<beast::tcp_stream&>> tls;  // wraps `tcp` for https
  beast::flat_buffer buffer;
  SteadyTime idle_since;
  bool reused = false;
};

struct Pending {
  HttpCall call;
  std::function<void(Result<HttpReply>)> done;
  SteadyTime overall_deadline;  // from Send(): the call's overall deadline
  std::uint64_t id = 0;
  std::shared_ptr<asio::steady_timer> wait_timer;  // while queued
};

struct Pool {
  std::vector<std::unique_ptr<Connection>> idle;  // most recently used last
  std::size_t open = 0;                           // idle and busy, against the cap
  std::list<Pending> waiting;
};

std::string Authority(const HttpCall& call) {
  bool default_port = (call.tls && call.port == 443) || (!call.tls && call.port == 80);
  bool ipv6 = call.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + call.host + "]" : call.host;
  return default_port ? host : host + ":" + std::to_string(call.port);
}

std::string PoolKey(const HttpCall& call) {
  return (call.tls ? "https://" : "http://") + Authority(call);
}

Error NetError(const boost::system::error_code& ec, const std::string& what) {
  if (ec == beast::error::timeout) {
    return Error{ErrorCode::kDeadlineExceeded, what + ": timed out"};
  }
  return Error{ErrorCode::kUnavailable, what + ": " + ec.message()};
}

// The server closed a kept-alive connection before reading our request.
bool IsStale(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

struct HttpClient::Impl {
  explicit Impl(HttpClientOptions o)
      : options(std::move(o)), tls_context(ssl::context::tls_client), work(ioc.get_executor()) {}

  HttpClientOptions options;
  ssl::context tls_context;
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unordered_map<std::string, Pool> pools;  // touched only on the I/O thread
  std::thread thread;
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> reused{0};
  std::atomic<std::uint64_t> queued{0};

  std::uint64_t next_id = 0;

  void Dispatch(Pending pending);
  void Expire(const std::string& key, std::uint64_t id);
  void Release(const std::string& key, std::unique_ptr<Connection> conn);
  asio::awaitable<void> Run(std::string key, std::unique_ptr<Connection> conn, Pending pending);
  asio::awaitable<Result<std::unique_ptr<Connection>>> Connect(const HttpCall& call,
                                                               SteadyTime deadline);
  asio::awaitable<Result<HttpReply>> Exchange(Connection& conn, const HttpCall& call,
                                              SteadyTime deadline, bool& keep_alive, bool& stale);
  template <class Stream>
  asio::awaitable<Result<HttpReply>> ExchangeOn(Stream& stream, Connection& conn,
                                                const HttpCall& call, SteadyTime deadline,
                                                bool& keep_alive, bool& stale);
};

void HttpClient::Impl::Dispatch(Pending pending) {
  std::string key = PoolKey(pending.call);
  Pool& pool = pools[key];
  std::unique_ptr<Connection> conn;
  auto now = std::chrono::steady_clock::now();
  while (!pool.idle.empty() && !conn) {
    conn = std::move(pool.idle.back());
    pool.idle.pop_back();
    if (now - conn->idle_since > options.idle_timeout) {
      conn.reset();  // kept too long: the server may have dropped it
      --pool.open;
    }
  }
  if (!conn) {
    if (pool.open >= options.max_connections_per_host) {
      queued.fetch_add(1, std::memory_order_relaxed);
      // Give up when the call's deadline passes before a connection frees up.
      pending.id = ++next_id;
      pending.wait_timer = std::make_shared<asio::steady_timer>(ioc, pending.overall_deadline);
      pending.wait_timer->async_wait([this, key, id = pending.id](boost::system::error_code ec) {
        if (!ec) {
          Expire(key, id);
        }
      });
      pool.waiting.push_back(std::move(pending));
      return;
    }
    ++pool.open;  // a connection Run will open
  } else {
    reused.fetch_add(1, std::memory_order_relaxed);
  }
  asio::co_spawn(
      ioc, Run(std::move(key), std::move(conn), std::move(pending)),
      [](const std::exception_ptr& e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            LogLine(LogLevel::kError, "http client callback threw").Str("error", ex.what()).Emit();
          }
        }
      });
}

void HttpClient::Impl::Release(const std::string& key, std::unique_ptr<Connection> conn) {
  Pool& pool = pools[key];
  if (conn && pool.idle.size() < options.max_idle_per_host) {
    conn->idle_since = std::chrono::steady_clock::now();
    conn->reused = true;
    pool.idle.push_back(std::move(conn));
  } else {
    --pool.open;
  }
  if (!pool.waiting.empty()) {
    Pending next = std::move(pool.waiting.front());
    pool.waiting.pop_front();
    next.wait_timer->cancel();
    next.wait_timer.reset();
    Dispatch(std::move(next));
  }
}

void HttpClient::Impl::Expire(const std::string& key, std::uint64_t id) {
  Pool& pool = pools[key];
  for (auto it = pool.waiting.begin(); it != pool.waiting.end(); ++it) {
    if (it->id == id) {
      auto done = std::move(it->done);
      pool.waiting.erase(it);
      done(Fail(ErrorCode::kDeadlineExceeded, key + ": timed out waiting for one of " +
                                                  std::to_string(options.max_connections_per_host) +
                                                  " connections"));
      return;
    }
  }
}

asio::awaitable<void> HttpClient::Impl::Run(std::string key, std::unique_ptr<Connection> conn,
                                            Pending pending) {
  const HttpCall& call = pending.call;
  // The exchange's own budget starts now, once it has a connection (or a slot for one), and
  // never runs past the call's overall deadline.
  SteadyTime deadline =
      std::min(std::chrono::steady_clock::now() + call.timeout, pending.overall_deadline);
  Result<HttpReply> result = std::unexpected(Error{ErrorCode::kInternal, "not sent"});
  bool keep_alive = false;
  for (int round = 0; round < 2; ++round) {
    if (!conn) {
      auto connected = co_await Connect(call, deadline);
      if (!connected) {
        result = std::unexpected(connected.error());
        break;
      }
      conn = std::move(*connected);
    }
    bool was_reused = conn->reused;
    bool stale = false;
    result = co_await Exchange(*conn, call, deadline, keep_alive, stale);
    if (result || !(stale && was_reused)) {
      break;
    }
    conn.reset();  // the server had closed it while idle: one fresh connection
    keep_alive = false;
  }
  Release(key, keep_alive && result ? std::move(conn) : nullptr);
  pending.done(std::move(result));
}

asio::awaitable<Result<std::unique_ptr<Connection>>> HttpClient::Impl::Connect(
    const HttpCall& call, SteadyTime deadline) {
  std::string where = Authority(call);
  SteadyTime connect_deadline =
      std::min(deadline, std::chrono::steady_clock::now() + options.connect_timeout);
  auto conn = std::make_unique<Connection>(ioc);

  tcp::resolver resolver(ioc);
  asio::steady_timer resolve_timer(ioc, connect_deadline);
  resolve_timer.async_wait([r = &resolver](boost::system::error_code ec) {
    if (!ec) {
      r->cancel();
    }
  });
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(call.host, std::to_string(call.port), kTuple);
  resolve_timer.cancel();
  if (resolve_ec) {
    if (std::chrono::steady_clock::now() >= connect_deadline) {
      co_return std::unexpected(
          Error{ErrorCode::kDeadlineExceeded, "resolve " + call.host + ": timed out"});
    }
    co_return std::unexpected(NetError(resolve_ec, "resolve " + call.host));
  }

  conn->tcp.expires_at(connect_deadline);
  auto [connect_ec, endpoint] = co_await conn->tcp.async_connect(endpoints, kTuple);
  if (connect_ec) {
    co_return std::unexpected(NetError(connect_ec, "connect " + where));
  }
  conn->tcp.socket().set_option(tcp::no_delay(true));

  if (call.tls) {
    conn->tls.emplace(conn->tcp, tls_context);
    SSL* handle = conn->tls->native_handle();
    boost::system::error_code not_ip;
    (void)asio::ip::make_address(call.host, not_ip);
    if (not_ip) {
      // A DNS name: send SNI and check the certificate's names against it.
      if (SSL_set_tlsext_host_name(handle, call.host.c_str()) != 1 ||
          SSL_set1_host(handle, call.host.c_str()) != 1) {
        co_return std::unexpected(Error{ErrorCode::kInternal, "TLS setup for " + where});
      }
    } else if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), call.host.c_str()) != 1) {
      co_return std::unexpected(Error{ErrorCode::kInternal, "TLS setup for " + where});
    }
    auto [handshake_ec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kTuple);
    if (handshake_ec) {
      long verify = SSL_get_verify_result(handle);
      if (verify != X509_V_OK) {
        co_return std::unexpected(Error{ErrorCode::kUnavailable,
                                        "TLS handshake with " + where + ": certificate rejected: " +
                                            X509_verify_cert_error_string(verify)});
      }
      co_return std::unexpected(NetError(handshake_ec, "TLS handshake with " + where));
    }
  }
  conn->tcp.expires_never();
  opened.fetch_add(1, std::memory_order_relaxed);
  co_return conn;
}

asio::awaitable<Result<HttpReply>> HttpClient::Impl::Exchange(Connection& conn,
                                                              const HttpCall& call,
                                                              SteadyTime deadline, bool& keep_alive,
                                                              bool& stale) {
  if (conn.tls) {
    co_return co_await ExchangeOn(*conn.tls, conn, call, deadline, keep_alive, stale);
  }
  co_return co_await ExchangeOn(conn.tcp, conn, call, deadline, keep_alive, stale);
}

template <class Stream>
asio::awaitable<Result<HttpReply>> HttpClient::Impl::ExchangeOn(Stream& stream, Connection& conn,
                                                                const HttpCall& call,
                                                                SteadyTime deadline,
                                                                bool& keep_alive, bool& stale) {
  std::string where = Authority(call);
  http::request<http::string_body> request;
  http::verb verb = http::string_to_verb(call.method);
  if (verb == http::verb::unknown) {
    request.method_string(call.method);
  } else {
    request.method(verb);
  }
  request.target(call.path);
  request.version(11);
  bool has_host = false;
  for (const auto& [name, value] : call.headers) {
    has_host = has_host || EqualsIgnoreCase(name, "host");
    request.insert(name, value);
  }
  if (!has_host) {
    request.set(http::field::host, where);
  }
  request.set(http::field::user_agent, "vendo");
  request.body() = call.body;
  request.prepare_payload();
  request.keep_alive(true);

  conn.tcp.expires_at(deadline);
  auto [write_ec, written] = co_await http::async_write(stream, request, kTuple);
  if (write_ec) {
    stale = IsStale(write_ec);
    co_return std::unexpected(NetError(write_ec, "send to " + where));
  }
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHeaderBytes);
  parser.body_limit(options.max_response_bytes);
  auto [read_ec, read] = co_await http::async_read(stream, conn.buffer, parser, kTuple);
  conn.tcp.expires_never();
  if (read_ec) {
    stale = IsStale(read_ec) && read == 0;
    if (read_ec == http::error::body_limit) {
      co_return std::unexpected(Error{ErrorCode::kUnavailable,
                                      "response from " + where + " is larger than " +
                                          std::to_string(options.max_response_bytes) + " bytes"});
    }
    co_return std::unexpected(NetError(read_ec, "response from " + where));
  }
  auto& response = parser.get();
  keep_alive = response.keep_alive();
  HttpReply reply;
  reply.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  reply.body = std::move(response.body());
  co_return reply;
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
  impl_->work.reset();
  impl_->ioc.stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
  impl_->pools.clear();
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const HttpClientOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  ssl::context& ctx = impl->tls_context;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (options.ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
  } else {
    ctx.load_verify_file(options.ca_file, ec);
  }
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument,
                "trust store " + (options.ca_file.empty() ? "(system)" : options.ca_file) + ": " +
                    ec.message());
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

void HttpClient::Send(HttpCall call, std::function<void(Result<HttpReply>)> done) {
  Impl* impl = impl_.get();
  SteadyTime overall_deadline =
      std::chrono::steady_clock::now() +
      (call.overall_timeout.count() > 0 ? call.overall_timeout : call.timeout);
  asio::post(impl->ioc,
             [impl, pending = Pending{std::move(call), std::move(done), overall_deadline, 0,
                                      nullptr}]() mutable { impl->Dispatch(std::move(pending)); });
}

void HttpClient::After(std::chrono::milliseconds delay, std::function<void()> task) {
  auto timer = std::make_shared<asio::steady_timer>(impl_->ioc, delay);
  timer->async_wait([timer, task = std::move(task)](boost::system::error_code ec) {
    if (!ec) {
      task();
    }
  });
}

HttpClientStats HttpClient::Stats() const {
  return HttpClientStats{impl_->opened.load(), impl_->reused.load(), impl_->queued.load()};
}

}  // namespace vendo::net
