// Open connections per client address (server.max_connections_per_address), so that one
// client holding idle sockets cannot use up server.max_connections for everyone. Addresses
// count as address_key.h says (IPv6 by prefix).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vendo::server {

class AddressConnections {
 public:
  AddressConnections(int per_address, int ipv6_prefix)
      : per_address_(per_address), ipv6_prefix_(ipv6_prefix) {}

  // Counts a new connection from `address`; returns the key to hand back to Close, or nullopt
  // when the address already holds its cap (the connection is refused, and not counted).
  std::optional<std::string> Open(std::string_view address);
  void Close(const std::string& key);
  int OpenFrom(std::string_view address) const;

 private:
  const int per_address_;
  const int ipv6_prefix_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> open_;  // only addresses with a connection open
};

}  // namespace vendo::server
