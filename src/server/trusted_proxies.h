// The load balancers whose X-Forwarded-For vendo believes. A request from any other peer has
// its header ignored: a client cannot make up its own address.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vendo/result.h"

namespace vendo::server {

class TrustedProxies {
 public:
  // Addresses or networks: "10.0.0.7", "10.0.0.0/8", "::1", "fd00::/8".
  static Result<TrustedProxies> Parse(const std::vector<std::string>& entries);

  bool Contains(std::string_view address) const;
  bool empty() const { return networks_.empty(); }

  // The client's address: the last X-Forwarded-For entry (the one our balancer appended) when
  // `peer` is trusted and the header is there, else `peer`.
  std::string ClientAddress(std::string_view peer, std::string_view forwarded_for) const;

 private:
  struct Network {
    std::vector<unsigned char> bytes;  // 4 or 16
    int prefix = 0;
  };
  std::vector<Network> networks_;
};

}  // namespace vendo::server
