// The parts of HttpServer::Impl that both halves use: the threads' contexts and their load,
// a socket's move between them, the TLS context in force, the request ids, and the stop.
#include "http/server_impl.h"

#include <unistd.h>

#include <charconv>
#include <csignal>

#include "common/log.h"
#include "common/random.h"

namespace vendo::server {

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

void LogIfThrown(std::string_view what, const std::exception_ptr& e) {
  if (!e) {
    return;
  }
  std::string error = "not a std::exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    error = x.what();
  } catch (...) {
  }
  LogLine(LogLevel::kError, "a coroutine ended with an exception")
      .Str("coroutine", what)
      .Str("error", error)
      .Emit();
}

HttpServer::Impl::Impl(const HttpServerOptions& o, Handler& h, const Clock& c)
    : options(o), handler(h), clock(c), per_address(o.max_connections_per_address, o.ipv6_prefix) {
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

std::vector<int> HttpServer::Impl::Loads() const {
  std::vector<int> loads(contexts.size());
  for (std::size_t i = 0; i < loads.size(); ++i) {
    loads[i] = context_load[i].load(std::memory_order_relaxed);
  }
  return loads;
}

std::shared_ptr<asio::ssl::context> HttpServer::Impl::CurrentTls() {
  std::lock_guard lock(tls_mu);
  return tls;
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

// Each thread takes numbers in blocks, so the network threads do not pass one counter's
// cache line back and forth per request.
std::string HttpServer::Impl::NextRequestId() {
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

}  // namespace vendo::server
