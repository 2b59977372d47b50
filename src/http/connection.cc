// One client connection: its TLS handshake, its requests read and parsed with Beast, each
// handed to the Handler and its answer written back, under one watchdog timer that enforces
// the first-byte, header, handler and idle deadlines. The listener is in http_server.cc.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <ctime>

#include "common/log.h"
#include "http/access_log.h"
#include "http/http_wire.h"
#include "http/server_impl.h"

namespace vendo::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using TimePoint = SessionState::TimePoint;

// With pinned threads, how often (in requests) a connection checks that it is served on the
// CPU its packets arrive on.
constexpr std::uint32_t kSteerEvery = 16;

// An HTTP date for "Date" and "Expires", formatted once per thread per second.
const std::string& HttpDate(std::chrono::system_clock::time_point now) {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  std::time_t second = std::chrono::system_clock::to_time_t(now);
  if (second != cached_second || cached.empty()) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&second, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_second = second;
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

// Closes the connection once its deadline passes. The session moves the deadline freely,
// also earlier (from the idle timeout to the header timeout when a request starts), so the
// watchdog never sleeps longer than `tick` before looking again: a deadline is enforced
// within one tick, and no request pays for a timer operation.
asio::awaitable<void> Watchdog(std::shared_ptr<SessionState> state, const Clock& clock,
                               std::chrono::steady_clock::duration tick) {
  while (!state->closed) {
    auto now = clock.Steady();
    if (state->deadline <= now && state->overdue) {
      auto overdue = std::move(state->overdue);
      state->overdue = nullptr;
      state->deadline = TimePoint::max();  // Serve sets the next
      overdue();  // the handler took too long: answer for it; the connection lives on
      continue;
    }
    if (state->deadline <= now) {
      state->cancel();
      co_return;
    }
    state->watchdog->expires_after(std::min(state->deadline - now, tick));
    (void)co_await state->watchdog->async_wait(kTuple);
  }
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

// The request-serving loop of one connection over `Stream` (a TCP socket, or TLS over it),
// in named steps.
template <class Stream>
class Session {
 public:
  Session(HttpServer::Impl& server, Stream& stream, tcp::socket& socket, SessionState& state,
          std::string remote)
      : server_(server),
        options_(server.options),
        stream_(stream),
        socket_(socket),
        state_(state),
        remote_(std::move(remote)) {}

  asio::awaitable<void> Run(bool fresh);

 private:
  static constexpr bool kPlain = std::is_same_v<Stream, tcp::socket>;
  using Parser = http::request_parser<http::string_body>;
  struct Sent {
    std::size_t bytes = 0;
    boost::system::error_code error;
  };

  // Between requests: steers the connection to a better thread, or waits (with the idle
  // deadline) for the next request's first bytes. False: the connection ends (or moves).
  asio::awaitable<bool> AwaitRequest(bool first);
  // Reads and parses one request into `parser`, answering "Expect: 100-continue".
  asio::awaitable<boost::system::error_code> ReadRequest(Parser& parser);
  // The answer to a request that could not be parsed (414, 431, 413, 400), when it deserves
  // one; a connection that just ended gets none.
  asio::awaitable<void> AnswerMalformed(boost::system::error_code error, Parser& parser,
                                        TimePoint started);
  HttpRequest ToRequest(Parser::value_type& msg);
  // Writes wire_: directly while the socket buffer takes it, then asynchronously.
  asio::awaitable<Sent> Send();

  HttpServer::Impl& server_;
  const HttpServerOptions& options_;
  Stream& stream_;
  tcp::socket& socket_;
  SessionState& state_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::string wire_;          // the response on its way out
  std::uint32_t served_ = 0;  // requests on this thread, for the steering check
  // When the last response was done (one clock read serves its log line, its metrics and the
  // idle deadline that follows).
  TimePoint finished_;
};

template <class Stream>
asio::awaitable<void> Session<Stream>::Run(bool fresh) {
  finished_ = server_.clock.Steady();
  bool first = fresh;
  while (!server_.draining.load() || buffer_.size() > 0) {
    if (buffer_.size() == 0 && !co_await AwaitRequest(first)) {
      co_return;
    }
    first = false;
    state_.busy = true;
    auto started = server_.clock.Steady();
    state_.ExpireIn(options_.header_timeout, started);

    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    parser.body_limit(options_.max_body_bytes);
    parser.eager(true);
    if (auto error = co_await ReadRequest(parser)) {
      co_await AnswerMalformed(error, parser, started);
      co_return;
    }
    auto& msg = parser.get();
    bool keep_alive = msg.keep_alive();
    bool http10 = msg.version() == 10;
    bool head = msg.method() == http::verb::head;
    HttpRequest request = ToRequest(msg);
    std::string client = request.client;
    std::string request_id = request.request_id;
    std::string method = request.method;
    std::string path = request.target.substr(0, request.target.find('?'));

    HttpResponse response = co_await server_.CallHandler(std::move(request), state_);
    state_.overdue = nullptr;

    keep_alive = keep_alive && !server_.draining.load();
    wire_.clear();  // keeps its capacity from the last response
    AppendResponse(wire_, response,
                   {http::obsolete_reason(static_cast<http::status>(response.status)),
                    HttpDate(server_.clock.Now()), request_id, keep_alive, http10, head});
    state_.ExpireIn(options_.header_timeout, server_.clock.Steady());
    auto [sent, send_error] = co_await Send();
    finished_ = server_.clock.Steady();
    AccessLog(request_id, method, path, response.status, finished_ - started, sent, response.app,
              client);
    if (options_.recorder != nullptr) {
      options_.recorder->Request(response.app, path, response.status, finished_ - started);
    }
    state_.busy = false;
    if (send_error || !keep_alive) {
      co_return;
    }
  }
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::AwaitRequest(bool first) {
  // With pinned threads, every kSteerEvery requests: if the client's packets now arrive on
  // another CPU, hand the connection to the thread there (between requests, plain TCP only:
  // a TLS session stays where it started).
  if constexpr (kPlain) {
    if (server_.plan && ++served_ % kSteerEvery == 0) {
      if (auto better = server_.BetterContext(socket_.native_handle(), state_.context)) {
        state_.move_to = better;
        co_return false;
      }
    }
  }
  if (!first) {  // a new connection keeps the first-byte deadline set when it arrived
    state_.ExpireIn(options_.idle_timeout, finished_);
  }
  auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), kTuple);
  if (ec) {
    co_return false;
  }
  buffer_.commit(n);
  co_return true;
}

template <class Stream>
asio::awaitable<boost::system::error_code> Session<Stream>::ReadRequest(Parser& parser) {
  boost::system::error_code error;
  bool sent_continue = false;
  bool framing_checked = false;
  while (!parser.is_done()) {
    if (buffer_.size() > 0) {
      std::size_t used = parser.put(buffer_.data(), error);
      buffer_.consume(used);
      if (error == http::error::need_more) {
        error = {};
      } else if (error) {
        co_return error;
      }
      if (!framing_checked && parser.is_header_done()) {
        framing_checked = true;
        if (!FramingIsSound(parser.get())) {
          co_return http::error::bad_transfer_encoding;  // 400, and the connection is closed
        }
      }
      if (used > 0) {
        continue;  // progress (the header, or part of the body): parse on, or finish
      }
    }
    if (parser.is_header_done() && !sent_continue &&
        parser.get()[http::field::expect] == "100-continue") {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      sent_continue = true;
      auto [cec, cn] = co_await asio::async_write(stream_, asio::buffer(kContinue), kTuple);
      if (cec) {
        co_return cec;
      }
    }
    auto [rec, rn] = co_await stream_.async_read_some(buffer_.prepare(4096), kTuple);
    if (rec) {
      co_return rec;
    }
    buffer_.commit(rn);
  }
  co_return error;
}

template <class Stream>
asio::awaitable<void> Session<Stream>::AnswerMalformed(boost::system::error_code error,
                                                       Parser& parser, TimePoint started) {
  std::optional<http::status> status;
  if (error == http::error::header_limit) {
    // The request line alone did not fit: 414; otherwise the headers did not: 431.
    std::string_view seen(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    auto eol = seen.find("\r\n");
    bool line_complete = !parser.get().target().empty() ||
                         (eol != std::string_view::npos && eol < options_.max_header_bytes);
    status =
        line_complete ? http::status::request_header_fields_too_large : http::status::uri_too_long;
  } else if (error == http::error::body_limit) {
    status = http::status::payload_too_large;
  } else if (error.category() == http::make_error_code(http::error::bad_method).category() &&
             error != http::error::end_of_stream && error != http::error::partial_message) {
    status = http::status::bad_request;
  }
  if (!status) {
    co_return;
  }
  HttpResponse r;
  r.status = static_cast<int>(*status);
  r.body = std::string(http::obsolete_reason(*status)) + "\n";
  std::string request_id = server_.NextRequestId();
  wire_.clear();
  AppendResponse(
      wire_, r,
      {http::obsolete_reason(*status), HttpDate(server_.clock.Now()), request_id, false, false});
  (void)co_await asio::async_write(stream_, asio::buffer(wire_), kTuple);
  auto latency = server_.clock.Steady() - started;
  AccessLog(request_id, "-", "-", r.status, latency, wire_.size(), "", remote_);
  if (options_.recorder != nullptr) {
    options_.recorder->Request("", "", r.status, latency);
  }
}

template <class Stream>
HttpRequest Session<Stream>::ToRequest(Parser::value_type& msg) {
  const TrustedProxies& proxies = server_.proxies;
  HttpRequest request;
  request.method = std::string(msg.method_string());
  request.target = std::string(msg.target());
  request.content_type = std::string(msg[http::field::content_type]);
  request.body = std::move(msg.body());
  // Behind a balancer that ends TLS, its X-Forwarded-Proto says how the client came in.
  request.tls = !kPlain || (!proxies.empty() && proxies.Contains(remote_) &&
                            msg["X-Forwarded-Proto"] == "https");
  request.host = std::string(msg[http::field::host]);
  request.origin = std::string(msg[http::field::origin]);
  request.referer = std::string(msg[http::field::referer]);
  request.cookie = std::string(msg[http::field::cookie]);
  request.authorization = std::string(msg[http::field::authorization]);
  request.request_id = server_.NextRequestId();
  request.client = proxies.empty() ? remote_ : proxies.ClientAddress(remote_, ForwardedFor(msg));
  return request;
}

template <class Stream>
asio::awaitable<typename Session<Stream>::Sent> Session<Stream>::Send() {
  Sent sent;
  if constexpr (kPlain) {
    // A response of a few hundred bytes fits in the socket buffer: send it directly and skip
    // the asynchronous machinery; fall back to it only if the buffer is full.
    sent.bytes = socket_.write_some(asio::buffer(wire_), sent.error);
    if (sent.error == asio::error::would_block || sent.error == asio::error::try_again) {
      sent.error = {};
    }
  }
  if (!sent.error && sent.bytes < wire_.size()) {
    auto [ec, n] = co_await asio::async_write(
        stream_, asio::buffer(wire_.data() + sent.bytes, wire_.size() - sent.bytes), kTuple);
    sent.error = ec;
    sent.bytes += n;
  }
  co_return sent;
}

}  // namespace

template <class Stream>
asio::awaitable<void> HttpServer::Impl::Serve(Stream& stream, tcp::socket& socket,
                                              SessionState& state, std::string remote, bool fresh) {
  Session<Stream> session(*this, stream, socket, state, std::move(remote));
  co_await session.Run(fresh);
}

void HttpServer::Impl::Spawn(tcp::socket socket, std::size_t context, bool fresh,
                             const std::string& address_slot) {
  context_load[context].fetch_add(1, std::memory_order_relaxed);
  asio::co_spawn(*contexts[context], RunConnection(std::move(socket), context, fresh, address_slot),
                 [this, context, address_slot](const std::exception_ptr& e, bool moved) {
                   LogIfThrown("connection", e);  // then `moved` is false: it is closed
                   context_load[context].fetch_sub(1, std::memory_order_relaxed);
                   if (!moved) {
                     if (!address_slot.empty()) {
                       per_address.Close(address_slot);
                     }
                     ConnectionClosed();
                   }
                 });
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
  state->ExpireIn(options.first_byte_timeout, clock.Steady());
  {
    std::lock_guard lock(sessions_mu);  // so a drain can close it while it is idle
    sessions.emplace(state.get(), state);
  }
  auto tick = std::max<std::chrono::steady_clock::duration>(
      std::chrono::milliseconds(10),
      std::min({options.first_byte_timeout, options.header_timeout, options.idle_timeout}) / 4);
  asio::co_spawn(socket.get_executor(), Watchdog(state, clock, tick),
                 [](const std::exception_ptr& e) { LogIfThrown("connection watchdog", e); });
  auto tls_context = CurrentTls();  // this connection keeps it, whatever SIGHUP does
  if (!tls_context) {
    co_await Serve(socket, socket, *state, std::move(remote), fresh);
  } else {
    asio::ssl::stream<tcp::socket&> stream(socket, *tls_context);
    auto [hs_ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
    if (!hs_ec) {
      co_await Serve(stream, socket, *state, std::move(remote), fresh);
      state->ExpireIn(std::chrono::seconds(2), clock.Steady());
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
      Spawn(std::move(*moved), *state->move_to, false, address_slot);
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
  state.ExpireIn(options.handler_timeout, clock.Steady());
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

}  // namespace vendo::server
