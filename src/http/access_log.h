// One JSON line per request. The path is logged without its query string, which carries
// keys and signatures in the 2012 protocol.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace vendo::server {

void AccessLog(std::string_view request_id, std::string_view method, std::string_view path,
               int status, std::chrono::steady_clock::duration latency, std::size_t bytes,
               std::string_view app, std::string_view remote);

}  // namespace vendo::server
