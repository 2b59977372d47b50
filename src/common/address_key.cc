#include "common/address_key.h"

#include <boost/asio/ip/address.hpp>

namespace vendo {
namespace {

namespace ip = boost::asio::ip;

// The address as IPv4 when it is IPv4 or IPv4-mapped IPv6, otherwise as it is.
bool Parse(std::string_view text, ip::address& out) {
  boost::system::error_code ec;
  out = ip::make_address(std::string(text), ec);
  if (ec) {
    return false;
  }
  if (out.is_v6() && out.to_v6().is_v4_mapped()) {
    out = ip::make_address_v4(ip::v4_mapped, out.to_v6());
  }
  return true;
}

}  // namespace

std::string AddressKey(std::string_view address, int ipv6_prefix) {
  ip::address a;
  if (!Parse(address, a)) {
    return std::string(address);
  }
  if (a.is_v4() || ipv6_prefix >= 128) {
    return a.to_string();
  }
  auto bytes = a.to_v6().to_bytes();
  int bits = std::max(ipv6_prefix, 0);
  for (auto& b : bytes) {
    b &= bits >= 8 ? 0xff : static_cast<unsigned char>(0xff00 >> bits);
    bits = std::max(bits - 8, 0);
  }
  return ip::address_v6(bytes).to_string() + "/" + std::to_string(std::max(ipv6_prefix, 0));
}

bool IsLoopback(std::string_view address) {
  ip::address a;
  return Parse(address, a) && a.is_loopback();
}

}  // namespace vendo
