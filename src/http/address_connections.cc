#include "http/address_connections.h"

#include "common/address_key.h"

namespace vendo::server {

std::optional<std::string> AddressConnections::Open(std::string_view address) {
  std::string key = AddressKey(address, ipv6_prefix_);
  std::lock_guard lock(mu_);
  int& n = open_[key];
  if (n >= per_address_) {
    if (n == 0) {
      open_.erase(key);
    }
    return std::nullopt;
  }
  ++n;
  return key;
}

void AddressConnections::Close(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = open_.find(key);
  if (it != open_.end() && --it->second <= 0) {
    open_.erase(it);
  }
}

int AddressConnections::OpenFrom(std::string_view address) const {
  std::string key = AddressKey(address, ipv6_prefix_);
  std::lock_guard lock(mu_);
  auto it = open_.find(key);
  return it == open_.end() ? 0 : it->second;
}

}  // namespace vendo::server
