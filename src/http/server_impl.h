// The insides of HttpServer, shared by its two halves and included by nothing else: the
// listener (http_server.cc: accept, caps, threads, TLS reload, drain) and the connection
// (connection.cc: one client's requests, their deadlines and the handler call).
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "http/address_connections.h"
#include "http/cpu_affinity.h"
#include "http/http_server.h"
#include "http/trusted_proxies.h"

namespace vendo::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
inline constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What the drain and the watchdog need to know about a live connection. Touched only on its
// own io_context thread, except for the registry that holds it.
struct SessionState {
  using TimePoint = std::chrono::steady_clock::time_point;

  asio::any_io_executor executor;
  bool busy = false;
  bool closed = false;
  std::function<void()> cancel;  // closes the socket: every pending operation fails
  // While a handler runs: answers it with the handler's Overdue response. The watchdog calls
  // this instead of `cancel` when the handler's deadline passes.
  std::function<void()> overdue;
  // One watchdog timer per connection enforces `deadline`; each phase of a request only
  // moves the deadline (no timer operation per read or write).
  TimePoint deadline = TimePoint::max();
  std::optional<asio::steady_timer> watchdog;
  std::size_t context = 0;             // the io_context (thread) serving the connection
  std::optional<std::size_t> move_to;  // set when Serve hands the connection to another

  void ExpireIn(std::chrono::steady_clock::duration d, TimePoint now) { deadline = now + d; }
};

// A socket object on `ctx` that takes over `from`'s open descriptor (no operation may be
// pending on `from`). On failure the descriptor is closed and `ec` says why.
std::optional<tcp::socket> MoveToContext(tcp::socket& from, asio::io_context& ctx,
                                         boost::system::error_code& ec);

// The completion of a detached coroutine: logs the exception that ended it, if any, so that
// a throw inside a session is never silent.
void LogIfThrown(std::string_view what, const std::exception_ptr& e);

struct HttpServer::Impl {
  Impl(const HttpServerOptions& o, Handler& h, const Clock& c);

  HttpServerOptions options;
  Handler& handler;
  const Clock& clock;  // the Date header's time, and every deadline and latency
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

  // --- the listener (http_server.cc)
  asio::awaitable<void> AcceptLoop();
  // Refuses a connection over a cap: 503 on plain HTTP, a bare close on TLS (a plain-text
  // answer would only be a TLS error to the client).
  asio::awaitable<void> Reject(tcp::socket socket);
  void LogRefusal(std::string_view why, const std::string& address);
  // The per-address slot for a new connection from `address`: "" when the address is not
  // capped (loopback, a trusted proxy), nullopt when it is at its cap.
  std::optional<std::string> TakeAddressSlot(const std::string& address);
  // Serves `socket` on contexts[context] until it closes (or is handed on).
  // `address_slot`: the per-address count the connection holds ("" when it is not counted).
  void Spawn(tcp::socket socket, std::size_t context, bool fresh, const std::string& address_slot);
  std::vector<int> Loads() const;
  std::shared_ptr<asio::ssl::context> CurrentTls();
  void WaitForReload();
  void BeginDrain();
  void ConnectionClosed();
  void StopAll();

  // --- one connection (connection.cc)
  // True when the connection was handed to another context (which now owns it, and its
  // address slot).
  asio::awaitable<bool> RunConnection(tcp::socket socket, std::size_t context, bool fresh,
                                      std::string address_slot);
  // Reads and answers requests until the connection closes, drains or moves. `fresh`: a new
  // connection (its first request gets the first-byte deadline, not the idle one).
  template <class Stream>
  asio::awaitable<void> Serve(Stream& stream, tcp::socket& socket, SessionState& state,
                              std::string remote, bool fresh);
  // Runs the handler; if it has not answered within handler_timeout, answers for it with
  // its Overdue response (the watchdog sees to the deadline).
  asio::awaitable<HttpResponse> CallHandler(HttpRequest request, SessionState& state);
  // With pinned threads: the thread that should serve a connection whose packets now arrive
  // on another CPU than its thread's, or nullopt to stay (see cpu_affinity.h).
  std::optional<std::size_t> BetterContext(int fd, std::size_t current) const;
  // "<prefix>-<n>", n unique within the process.
  std::string NextRequestId();
};

}  // namespace vendo::server
