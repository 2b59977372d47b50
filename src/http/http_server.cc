#include "http/http_server.h"

#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <csignal>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/address_key.h"
#include "common/log.h"
#include "common/random.h"
#include "http/access_log.h"
#include "http/address_connections.h"
#include "http/cpu_affinity.h"
#include "http/http_wire.h"
#include "http/trusted_proxies.h"

namespace vendo::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// With pinned threads, how often (in requests) a connection checks that it is served on the
// CPU its packets arrive on.
constexpr std::uint32_t kSteerEvery = 16;

// What the drain needs to know about a live connection. Touched only on its own io_context
// thread, except for the registry that holds it.
struct SessionState {
  asio::any_io_executor executor;
  bool busy = false;
  bool closed = false;
  std::function<void()> cancel;  // closes the socket: every pending operation fails
  // While a handler runs: answers it with the handler's Overdue response. The watchdog calls
  // this instead of `cancel` when the handler's deadline passes.
  std::function<void()> overdue;
  // One watchdog timer per connection enforces `deadline`; each phase of a request only
  // moves the deadline (no timer operation per read or write).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::optional<asio::steady_timer> watchdog;
  std::size_t context = 0;             // the io_context (thread) serving the connection
  std::optional<std::size_t> move_to;  // set when Serve hands the connection to another

  void ExpireIn(std::chrono::steady_clock::duration d) {
    deadline = std::chrono::steady_clock::now() + d;
  }
  // The same, from a `now` the caller already read.
  void ExpireIn(std::chrono::steady_clock::duration d, std::chrono::steady_clock::time_point now) {
    deadline = now + d;
  }
};

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

// A socket object on `ctx` that takes over `from`'s open descriptor (no operation may be
// pending on `from`). On failure the descriptor is closed and `ec` says why.
std::optional<tcp::socket> MoveToContext(tcp::socket& from, asio::io_context& ctx,
                                         boost::system::error_code& ec) {
  auto protocol = from.local_endpoint(ec).protocol();
  if (ec) {
    return std::nullopt;
  }
  int fd = from.release(ec);
  if (ec) {
    return std::nullopt;
  }
  tcp::socket moved(ctx);
  moved.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);  // released but not taken over
    return std::nullopt;
  }
  return moved;
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

// An HTTP date for "Date" and "Expires", cached per thread per second.
const std::string& HttpDate() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_second = now;
  }
  return cached;
}

// RFC 9112 6.3: a Transfer-Encoding other than exactly "chunked", or any Transfer-Encoding
// in HTTP/1.0, leaves the body's length unknown; reading on would take the body for the next
// request (request smuggling behind a proxy that reads it otherwise). Beast ignores such a
// field, so it is checked here: the answer is 400 and the connection closes.
template <typename Message>
bool FramingIsSound(const Message& msg) {
  auto [begin, end] = msg.equal_range(http::field::transfer_encoding);
  if (begin == end) {
    return true;
  }
  if (msg.version() < 11 || std::next(begin) != end) {
    return false;
  }
  std::string_view te = begin->value();
  while (!te.empty() && (te.front() == ' ' || te.front() == '\t')) {
    te.remove_prefix(1);
  }
  while (!te.empty() && (te.back() == ' ' || te.back() == '\t')) {
    te.remove_suffix(1);
  }
  return beast::iequals(te, "chunked");
}

// Every X-Forwarded-For field, joined with commas in the order they came: a balancer such as
// haproxy's `option forwardfor` adds a field of its own after any the client sent.
template <typename Fields>
std::string ForwardedFor(const Fields& fields) {
  std::string joined;
  auto [begin, end] = fields.equal_range("X-Forwarded-For");
  for (auto it = begin; it != end; ++it) {
    if (!joined.empty()) {
      joined.push_back(',');
    }
    joined.append(it->value());
  }
  return joined;
}

}  // namespace

struct HttpServer::Impl {
  Impl(const HttpServerOptions& o, Handler& h)
      : options(o), handler(h), per_address(o.max_connections_per_address, o.ipv6_prefix) {
    int n = std::max(1, o.threads);
    for (int i = 0; i < n; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      guards.emplace_back(contexts.back()->get_executor());
    }
    if (o.pin_threads) {
      plan = CpuPlan::ForThisProcess(contexts.size());
    }
    context_load = std::make_unique<std::atomic<int>[]>(contexts.size());
    acceptor.emplace(*contexts[0]);
    signals.emplace(*contexts[0], SIGTERM, SIGINT);
    reload_signals.emplace(*contexts[0], SIGHUP);
    OsRandom random;
    id_prefix = random.Hex(4);
  }

  HttpServerOptions options;
  Handler& handler;
  TrustedProxies proxies;
  AddressConnections per_address;
  std::atomic<std::int64_t> last_refusal_log{0};  // steady seconds: one warning a second
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  // The TLS context for new connections; SIGHUP swaps in a fresh one (new certificate and
  // key) while connections already open keep theirs.
  std::mutex tls_mu;
  std::shared_ptr<asio::ssl::context> tls;
  std::optional<asio::signal_set> reload_signals;
  std::optional<asio::steady_timer> drain_timer;
  std::atomic<int> active{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  std::mutex sessions_mu;
  std::unordered_map<SessionState*, std::weak_ptr<SessionState>> sessions;
  std::string id_prefix;
  std::atomic<std::uint64_t> next_id{0};
  std::size_t next_context = 0;
  std::optional<CpuPlan> plan;                       // with pin_threads: each context's CPU
  std::unique_ptr<std::atomic<int>[]> context_load;  // open connections by context

  std::vector<int> Loads() const {
    std::vector<int> loads(contexts.size());
    for (std::size_t i = 0; i < loads.size(); ++i) {
      loads[i] = context_load[i].load(std::memory_order_relaxed);
    }
    return loads;
  }
  // With pinned threads: the thread that should serve a connection whose packets now arrive
  // on another CPU than its thread's, or nullopt to stay (see cpu_affinity.h).
  std::optional<std::size_t> BetterContext(int fd, std::size_t current) const;
  // Serves `socket` on contexts[context] until it closes (or, with `moved`, is handed on).
  // `address_slot`: the per-address count the connection holds ("" when it is not counted).
  void Spawn(tcp::socket socket, std::size_t context, bool fresh, std::string address_slot);

  // "<prefix>-<n>", n unique within the process. Each thread takes numbers in blocks, so
  // the network threads do not pass one counter's cache line back and forth per request.
  std::string NextRequestId() {
    static constexpr std::uint64_t kBlock = 1024;
    thread_local const Impl* owner = nullptr;
    thread_local std::uint64_t next = 0, end = 0;
    if (owner != this || next == end) {
      owner = this;
      next = next_id.fetch_add(kBlock, std::memory_order_relaxed);
      end = next + kBlock;
    }
    char digits[24];
    auto stop = std::to_chars(digits, digits + sizeof digits, next++).ptr;
    std::string id;
    id.reserve(id_prefix.size() + 1 + static_cast<std::size_t>(stop - digits));
    id.append(id_prefix).push_back('-');
    id.append(digits, stop);
    return id;
  }

  asio::awaitable<void> AcceptLoop();
  // Refuses a connection over a cap: 503 on plain HTTP, a bare close on TLS (a plain-text
  // answer would only be a TLS error to the client).
  asio::awaitable<void> Reject(tcp::socket socket);
  void LogRefusal(std::string_view why, const std::string& address);
  // The per-address slot for a new connection from `address`: "" when the address is not
  // capped (loopback, a trusted proxy), nullopt when it is at its cap.
  std::optional<std::string> TakeAddressSlot(const std::string& address);
  // True when the connection was handed to another context (which now owns it, and its
  // address slot).
  asio::awaitable<bool> RunConnection(tcp::socket socket, std::size_t context, bool fresh,
                                      std::string address_slot);
  template <class Stream>
  // `fresh`: a new connection (its first request gets the header timeout, not the idle one).
  asio::awaitable<void> Serve(Stream& stream, tcp::socket& socket, SessionState& state,
                              std::string remote, bool fresh);
  // Runs the handler; if it has not answered within handler_timeout, answers for it with
  // its Overdue response (the watchdog sees to the deadline).
  asio::awaitable<HttpResponse> CallHandler(HttpRequest request, SessionState& state);
  void BeginDrain();
  std::shared_ptr<asio::ssl::context> CurrentTls() {
    std::lock_guard lock(tls_mu);
    return tls;
  }
  void WaitForReload();
  void ConnectionClosed();
  void StopAll();
};

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
      asio::co_spawn(ctx, Reject(std::move(*socket)), asio::detached);
      continue;
    }
    auto slot = TakeAddressSlot(address);
    if (!slot) {
      LogRefusal("server.max_connections_per_address", address);
      asio::co_spawn(ctx, Reject(std::move(*socket)), asio::detached);
      continue;
    }
    active.fetch_add(1);
    Spawn(std::move(*socket), pick, true, std::move(*slot));
  }
}

std::optional<std::string> HttpServer::Impl::TakeAddressSlot(const std::string& address) {
  if (address.empty() || IsLoopback(address) || proxies.Contains(address)) {
    return std::string();
  }
  return per_address.Open(address);
}

void HttpServer::Impl::LogRefusal(std::string_view why, const std::string& address) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
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

void HttpServer::Impl::Spawn(tcp::socket socket, std::size_t context, bool fresh,
                             std::string address_slot) {
  context_load[context].fetch_add(1, std::memory_order_relaxed);
  asio::co_spawn(*contexts[context], RunConnection(std::move(socket), context, fresh, address_slot),
                 [this, context, address_slot](const std::exception_ptr&, bool moved) {
                   context_load[context].fetch_sub(1, std::memory_order_relaxed);
                   if (!moved) {
                     if (!address_slot.empty()) {
                       per_address.Close(address_slot);
                     }
                     ConnectionClosed();
                   }
                 });
}

std::optional<std::size_t> HttpServer::Impl::BetterContext(int fd, std::size_t current) const {
  auto cpu = IncomingCpu(fd);
  if (!cpu || plan->CpuOf(current) == *cpu) {
    return std::nullopt;
  }
  auto there = plan->ThreadsOn(*cpu);
  if (there.empty()) {
    return std::nullopt;
  }
  auto loads = Loads();
  std::size_t target = there[0];
  for (std::size_t t : there) {
    target = loads[t] < loads[target] ? t : target;
  }
  if (KeepBalanced(target, loads) != target) {
    return std::nullopt;  // that thread is busy enough already
  }
  return target;
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

// Closes the connection once its deadline passes. The session moves the deadline freely,
// also earlier (from the idle timeout to the header timeout when a request starts), so the
// watchdog never sleeps longer than `tick` before looking again: a deadline is enforced
// within one tick, and no request pays for a timer operation.
asio::awaitable<void> Watchdog(std::shared_ptr<SessionState> state,
                               std::chrono::steady_clock::duration tick) {
  while (!state->closed) {
    auto now = std::chrono::steady_clock::now();
    if (state->deadline <= now && state->overdue) {
      auto overdue = std::move(state->overdue);
      state->overdue = nullptr;
      state->deadline = std::chrono::steady_clock::time_point::max();  // Serve sets the next
      overdue();  // the handler took too long: answer for it; the connection lives on
      continue;
    }
    if (state->deadline <= now) {
      state->cancel();
      co_return;
    }
    state->watchdog->expires_at(std::min(state->deadline, now + tick));
    (void)co_await state->watchdog->async_wait(kTuple);
  }
}

asio::awaitable<bool> HttpServer::Impl::RunConnection(tcp::socket socket, std::size_t context,
                                                      bool fresh, std::string address_slot) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  socket.non_blocking(true, ec);  // lets Serve try a direct send before an asynchronous one
  auto peer = socket.remote_endpoint(ec);
  std::string remote = ec ? "" : peer.address().to_string();
  auto state = std::make_shared<SessionState>();
  state->context = context;
  state->executor = socket.get_executor();
  state->watchdog.emplace(socket.get_executor());
  state->cancel = [&socket] {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  };
  // A new connection has first_byte_timeout for its TLS handshake and its first byte; a
  // connection handed over from another thread is between requests (Serve makes it idle).
  state->ExpireIn(options.first_byte_timeout);
  {
    std::lock_guard lock(sessions_mu);  // so a drain can close it while it is idle
    sessions.emplace(state.get(), state);
  }
  auto tick = std::max<std::chrono::steady_clock::duration>(
      std::chrono::milliseconds(10),
      std::min({options.first_byte_timeout, options.header_timeout, options.idle_timeout}) / 4);
  asio::co_spawn(socket.get_executor(), Watchdog(state, tick), asio::detached);
  auto tls_context = CurrentTls();  // this connection keeps it, whatever SIGHUP does
  if (!tls_context) {
    co_await Serve(socket, socket, *state, std::move(remote), fresh);
  } else {
    asio::ssl::stream<tcp::socket&> stream(socket, *tls_context);
    auto [hs_ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
    if (!hs_ec) {
      co_await Serve(stream, socket, *state, std::move(remote), fresh);
      state->ExpireIn(std::chrono::seconds(2));
      (void)co_await stream.async_shutdown(kTuple);
    }
  }
  state->closed = true;
  state->watchdog->cancel();
  {
    std::lock_guard lock(sessions_mu);
    sessions.erase(state.get());
  }
  if (state->move_to && !draining.load()) {
    // Hand the open connection to the thread on its packets' CPU, between two requests.
    auto moved = MoveToContext(socket, *contexts[*state->move_to], ec);
    if (moved) {
      Spawn(std::move(*moved), *state->move_to, false, std::move(address_slot));
      if (LogEnabled(LogLevel::kDebug)) {
        LogLine(LogLevel::kDebug, "connection moved")
            .Int("from_thread", static_cast<std::int64_t>(context))
            .Int("to_thread", static_cast<std::int64_t>(*state->move_to))
            .Emit();
      }
      co_return true;
    }
    if (!socket.is_open()) {
      co_return false;  // released, then closed by MoveToContext
    }
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
  co_return false;
}

// Where a handler's response lands. Most handlers answer inside Handle() on the network
// thread; then the session takes the response without suspending. A handler that answers
// later finds the coroutine's completion handler here and hands it the response on the
// connection's executor: inline when it already runs there, posted from any other thread.
struct ResponseSlot {
  using Completion = std::function<void(HttpResponse)>;
  std::mutex mu;
  std::optional<HttpResponse> response;  // set when the handler answered before anyone waited
  Completion completion;                 // set when the session is waiting
  bool overdue = false;                  // answered for the handler: its answer is dropped
  asio::any_io_executor executor;
};

asio::awaitable<HttpResponse> HttpServer::Impl::CallHandler(HttpRequest request,
                                                            SessionState& state) {
  auto slot = std::make_shared<ResponseSlot>();
  slot->executor = co_await asio::this_coro::executor;
  std::string target = request.target;
  handler.Handle(std::move(request), [slot](HttpResponse response) {
    std::unique_lock lock(slot->mu);
    if (slot->overdue) {
      return;  // too late: the client has had its 503
    }
    if (!slot->completion) {
      slot->response = std::move(response);
      return;
    }
    auto completion = std::move(slot->completion);
    lock.unlock();
    // On the connection's own thread (an audit batch answering its vends) the session resumes
    // here and sends at once; from any other thread this posts.
    asio::dispatch(slot->executor,
                   [completion = std::move(completion), response = std::move(response)]() mutable {
                     completion(std::move(response));
                   });
  });
  {
    std::lock_guard lock(slot->mu);
    if (slot->response) {
      co_return std::move(*slot->response);  // answered inline: no suspension, no post
    }
  }
  state.ExpireIn(options.handler_timeout);
  state.overdue = [this, slot, target = std::move(target)] {
    std::unique_lock lock(slot->mu);
    if (slot->response || !slot->completion) {
      return;  // answered meanwhile: its completion is on its way
    }
    slot->overdue = true;
    auto completion = std::move(slot->completion);
    lock.unlock();
    LogLine(LogLevel::kWarn, "request not answered in time; answered for its handler")
        .Str("target", target.substr(0, target.find('?')))
        .Int("handler_timeout_ms", options.handler_timeout.count())
        .Emit();
    asio::post(slot->executor,
               [completion = std::move(completion), response = handler.Overdue(target)]() mutable {
                 completion(std::move(response));
               });
  };
  // Captures only a pointer to the slot: g++ 12 relocates objects with non-trivial members
  // that are captured by value in a lambda temporary inside a co_await expression.
  ResponseSlot* raw = slot.get();
  auto initiate = [raw](auto completion) {
    auto shared = std::make_shared<decltype(completion)>(std::move(completion));
    std::unique_lock lock(raw->mu);
    if (raw->response) {  // answered between our check and now
      HttpResponse response = std::move(*raw->response);
      lock.unlock();
      asio::post(raw->executor, [shared, response = std::move(response)]() mutable {
        std::move (*shared)(std::move(response));
      });
      return;
    }
    raw->completion = [shared](HttpResponse response) { std::move (*shared)(std::move(response)); };
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(HttpResponse)>(
      initiate, asio::use_awaitable);
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::Serve(Stream& stream, tcp::socket& socket,
                                              SessionState& state, std::string remote, bool fresh) {
  constexpr bool kPlain = std::is_same_v<Stream, tcp::socket>;
  beast::flat_buffer buffer;
  std::string wire;  // the response on its way out
  bool first = fresh;
  std::uint32_t served = 0;  // requests on this thread, for the steering check
  // When the last response was done (one clock read serves its log line, its metrics and the
  // idle deadline that follows).
  auto finished = std::chrono::steady_clock::now();
  while (!draining.load() || buffer.size() > 0) {
    // Wait for the next request with the idle timeout, then give the request its own budget.
    if (buffer.size() == 0) {
      // With pinned threads, every kSteerEvery requests: if the client's packets now arrive
      // on another CPU, hand the connection to the thread there (between requests, plain
      // TCP only: a TLS session stays where it started).
      if constexpr (kPlain) {
        if (plan && ++served % kSteerEvery == 0) {
          if (auto better = BetterContext(socket.native_handle(), state.context)) {
            state.move_to = better;
            co_return;
          }
        }
      }
      if (!first) {  // a new connection keeps the first-byte deadline set when it arrived
        state.ExpireIn(options.idle_timeout, finished);
      }
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      if (ec) {
        co_return;
      }
      buffer.commit(n);
    }
    first = false;
    state.busy = true;
    auto started = std::chrono::steady_clock::now();
    state.ExpireIn(options.header_timeout, started);

    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body_bytes);
    parser.eager(true);
    boost::system::error_code hec;
    bool sent_continue = false;
    bool framing_checked = false;
    while (!parser.is_done()) {
      if (buffer.size() > 0) {
        std::size_t used = parser.put(buffer.data(), hec);
        buffer.consume(used);
        if (hec == http::error::need_more) {
          hec = {};
        } else if (hec) {
          break;
        }
        if (!framing_checked && parser.is_header_done()) {
          framing_checked = true;
          if (!FramingIsSound(parser.get())) {
            hec = http::error::bad_transfer_encoding;  // 400, and the connection is closed
            break;
          }
        }
        if (!hec && used > 0) {
          continue;  // progress (the header, or part of the body): parse on, or finish
        }
      }
      if (parser.is_header_done() && !sent_continue &&
          parser.get()[http::field::expect] == "100-continue") {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        sent_continue = true;
        if (auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(kContinue), kTuple);
            cec) {
          co_return;
        }
      }
      auto [rec, rn] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      if (rec) {
        hec = rec;
        break;
      }
      buffer.commit(rn);
    }
    if (hec) {
      std::optional<http::status> status;
      if (hec == http::error::header_limit) {
        // The request line alone did not fit: 414; otherwise the headers did not: 431.
        std::string_view seen(static_cast<const char*>(buffer.data().data()), buffer.size());
        auto eol = seen.find("\r\n");
        bool line_complete = !parser.get().target().empty() ||
                             (eol != std::string_view::npos && eol < options.max_header_bytes);
        status = line_complete ? http::status::request_header_fields_too_large
                               : http::status::uri_too_long;
      } else if (hec == http::error::body_limit) {
        status = http::status::payload_too_large;
      } else if (hec.category() == http::make_error_code(http::error::bad_method).category() &&
                 hec != http::error::end_of_stream && hec != http::error::partial_message) {
        status = http::status::bad_request;
      }
      if (status) {
        HttpResponse r;
        r.status = static_cast<int>(*status);
        r.body = std::string(http::obsolete_reason(*status)) + "\n";
        std::string request_id = NextRequestId();
        wire.clear();
        AppendResponse(wire, r,
                       {http::obsolete_reason(*status), HttpDate(), request_id, false, false});
        (void)co_await asio::async_write(stream, asio::buffer(wire), kTuple);
        auto latency = std::chrono::steady_clock::now() - started;
        AccessLog(request_id, "-", "-", r.status, latency, wire.size(), "", remote);
        if (options.recorder != nullptr) {
          options.recorder->Request("", "", r.status, latency);
        }
      }
      co_return;
    }

    auto& msg = parser.get();
    HttpRequest request;
    request.method = std::string(msg.method_string());
    request.target = std::string(msg.target());
    request.content_type = std::string(msg[http::field::content_type]);
    request.body = std::move(msg.body());
    // Behind a balancer that ends TLS, its X-Forwarded-Proto says how the client came in.
    request.tls = !kPlain || (!proxies.empty() && proxies.Contains(remote) &&
                              msg["X-Forwarded-Proto"] == "https");
    request.host = std::string(msg[http::field::host]);
    request.origin = std::string(msg[http::field::origin]);
    request.referer = std::string(msg[http::field::referer]);
    request.cookie = std::string(msg[http::field::cookie]);
    request.authorization = std::string(msg[http::field::authorization]);
    request.request_id = NextRequestId();
    request.client = proxies.empty() ? remote : proxies.ClientAddress(remote, ForwardedFor(msg));
    std::string client = request.client;
    std::string request_id = request.request_id;
    std::string method = request.method;
    std::string path = request.target.substr(0, request.target.find('?'));
    bool keep_alive = msg.keep_alive();
    bool http10 = msg.version() == 10;
    bool head = msg.method() == http::verb::head;

    HttpResponse response = co_await CallHandler(std::move(request), state);
    state.overdue = nullptr;

    keep_alive = keep_alive && !draining.load();
    wire.clear();  // keeps its capacity from the last response
    AppendResponse(wire, response,
                   {http::obsolete_reason(static_cast<http::status>(response.status)), HttpDate(),
                    request_id, keep_alive, http10, head});
    state.ExpireIn(options.header_timeout);
    std::size_t sent = 0;
    boost::system::error_code wec;
    if constexpr (kPlain) {
      // A response of a few hundred bytes fits in the socket buffer: send it directly and
      // skip the asynchronous machinery; fall back to it only if the buffer is full.
      sent = socket.write_some(asio::buffer(wire), wec);
      if (wec == asio::error::would_block || wec == asio::error::try_again) {
        wec = {};
      }
    }
    if (!wec && sent < wire.size()) {
      auto [aec, an] = co_await asio::async_write(
          stream, asio::buffer(wire.data() + sent, wire.size() - sent), kTuple);
      wec = aec;
      sent += an;
    }
    finished = std::chrono::steady_clock::now();
    AccessLog(request_id, method, path, response.status, finished - started, sent, response.app,
              client);
    if (options.recorder != nullptr) {
      options.recorder->Request(response.app, path, response.status, finished - started);
    }
    state.busy = false;
    if (wec || !keep_alive) {
      co_return;
    }
  }
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
        asio::post(s->executor, [s, grace = options.drain_idle_grace] {
          if (!s->closed && !s->busy) {
            s->ExpireIn(grace);
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

void HttpServer::Impl::ConnectionClosed() {
  if (active.fetch_sub(1) == 1 && draining.load()) {
    asio::post(*contexts[0], [this] { StopAll(); });
  }
}

void HttpServer::Impl::StopAll() {
  if (stopped.exchange(true)) {
    return;
  }
  if (drain_timer) {
    drain_timer->cancel();
  }
  for (auto& g : guards) {
    g.reset();
  }
  for (auto& c : contexts) {
    c->stop();
  }
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options,
                                                       Handler& handler) {
  auto impl = std::make_unique<Impl>(options, handler);
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
  asio::co_spawn(*s.contexts[0], s.AcceptLoop(), asio::detached);
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
