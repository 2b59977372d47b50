// Endpoint URLs as configured: "https://sts.eu-west-1.amazonaws.com", "http://127.0.0.1:9000".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vendo/result.h"

namespace vendo::net {

struct HttpUrl {
  bool tls = true;
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 443;
  std::string path_and_query = "/";
};

// Parses an absolute http:// or https:// URL. No user info; the port defaults by scheme.
[[nodiscard]] Result<HttpUrl> ParseHttpUrl(std::string_view text);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

}  // namespace vendo::net
