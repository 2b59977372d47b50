// HttpServerOptions: the transport's settings (limits, timeouts, TLS files, trusted proxies),
// a plain struct that the configuration fills in without seeing the server itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vendo::metrics {
class Recorder;
}  // namespace vendo::metrics

namespace vendo::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 1;
  // Pin thread i to the i-th CPU this process may use, and hand each connection to the thread
  // on the CPU that receives its packets (see cpu_affinity.h).
  bool pin_threads = false;
  int max_connections = 10000;
  // Open connections from one client address (IPv6: one prefix) at most. Loopback and
  // trusted proxies are not capped: behind a balancer every client shares its address.
  int max_connections_per_address = 256;
  int ipv6_prefix = 64;  // what counts as one IPv6 client (address_key.h)
  // A new connection must finish its TLS handshake and send its first byte within this.
  std::chrono::milliseconds first_byte_timeout{5000};
  // Reading one request (its header and body), and writing its response.
  std::chrono::milliseconds header_timeout{10000};
  // The handler's own deadline: a request it has not answered by then is answered with the
  // handler's Overdue() response (a 503 the client may retry), never dropped. Set it above
  // the longest issuer and store waits (serve derives it from them).
  std::chrono::milliseconds handler_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds drain_timeout{15000};
  // On SIGTERM, how long an idle keep-alive connection stays open for a request already on
  // its way (answered with Connection: close).
  std::chrono::milliseconds drain_idle_grace{1000};
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 65536;
  std::string tls_cert_file;  // TLS when both are set
  std::string tls_key_file;
  // With TLS: every client must present a certificate that this CA (PEM) signed.
  std::string tls_client_ca_file;
  // Peers (load balancers) whose X-Forwarded-For names the client; see trusted_proxies.h.
  std::vector<std::string> trusted_proxies;
  // Counts each request (by app, endpoint and status) with its latency; may be null.
  metrics::Recorder* recorder = nullptr;
};

}  // namespace vendo::server
