#include "http/trusted_proxies.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace vendo::server {
namespace {

std::vector<unsigned char> BytesOf(const boost::asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) {  // ::ffff:10.0.0.7 is 10.0.0.7
    auto b = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_bytes();
    return {b.begin(), b.end()};
  }
  auto b = v6.to_bytes();
  return {b.begin(), b.end()};
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
  TrustedProxies out;
  for (const auto& entry : entries) {
    std::string_view text = entry;
    auto slash = text.find('/');
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument, "\"" + entry + "\" is not an IP address or network");
    }
    Network n;
    n.bytes = BytesOf(address);
    int max = static_cast<int>(n.bytes.size()) * 8;
    n.prefix = max;
    if (slash != std::string_view::npos) {
      auto digits = text.substr(slash + 1);
      auto [end, perr] = std::from_chars(digits.data(), digits.data() + digits.size(), n.prefix);
      if (perr != std::errc() || end != digits.data() + digits.size() || n.prefix < 0 ||
          n.prefix > max) {
        return Fail(ErrorCode::kInvalidArgument, "\"" + entry + "\": bad prefix length");
      }
    }
    out.networks_.push_back(std::move(n));
  }
  return out;
}

bool TrustedProxies::Contains(std::string_view text) const {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) {
    return false;
  }
  auto bytes = BytesOf(address);
  for (const auto& n : networks_) {
    if (n.bytes.size() != bytes.size()) {
      continue;
    }
    int bits = n.prefix;
    bool match = true;
    for (std::size_t i = 0; bits > 0 && match; ++i, bits -= 8) {
      unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
      match = (bytes[i] & mask) == (n.bytes[i] & mask);
    }
    if (match) {
      return true;
    }
  }
  return false;
}

std::string TrustedProxies::ClientAddress(std::string_view peer,
                                          std::string_view forwarded_for) const {
  // Each hop appends the address it received the request from, so the list is only as
  // trustworthy as the hop that wrote each entry: walk from the right while the sender is one
  // of our proxies. The first entry written by a trusted proxy about an untrusted sender is
  // the client; anything to its left was written by the client and is ignored.
  std::string client(peer);
  if (!Contains(client)) {
    return client;
  }
  std::string_view rest = forwarded_for;
  while (!rest.empty()) {
    auto comma = rest.rfind(',');
    std::string_view entry = Trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    if (entry.empty()) {
      continue;  // "a,,b" or a trailing comma: no hop wrote an empty entry
    }
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(entry), ec);
    if (ec) {
      return client;  // garbage where an address belongs: keep the last hop we can vouch for
    }
    client = address.to_string();
    if (!Contains(client)) {
      return client;
    }
  }
  return client;  // every hop was a trusted proxy: the leftmost is the closest we know
}

}  // namespace vendo::server
