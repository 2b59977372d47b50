#include "net/url.h"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

namespace vendo::net {

Result<HttpUrl> ParseHttpUrl(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    return Fail(ErrorCode::kInvalidArgument, "not an absolute URL: " + std::string(text));
  }
  const auto& url = *parsed;
  HttpUrl out;
  if (url.scheme() == "https") {
    out.tls = true;
  } else if (url.scheme() == "http") {
    out.tls = false;
  } else {
    return Fail(ErrorCode::kInvalidArgument, "the URL must start with http:// or https://");
  }
  if (url.has_userinfo()) {
    return Fail(ErrorCode::kInvalidArgument, "the URL must not hold a user name or password");
  }
  out.host = url.host_type() == boost::urls::host_type::ipv6 ? url.host_address() : url.host();
  if (out.host.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "the URL has no host");
  }
  if (url.has_port()) {
    std::string_view port = url.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Fail(ErrorCode::kInvalidArgument, "the URL's port must be 1-65535");
    }
    out.port = static_cast<std::uint16_t>(value);
  } else {
    out.port = out.tls ? 443 : 80;
  }
  std::string path(url.encoded_path());
  out.path_and_query = path.empty() ? "/" : path;
  if (url.has_query()) {
    out.path_and_query.append("?").append(url.encoded_query());
  }
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") {
    return true;
  }
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

}  // namespace vendo::net
