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
  [[nodiscard]] static Result<TrustedProxies> Parse(const std::vector<std::string>& entries);

  bool Contains(std::string_view address) const;
  bool empty() const { return networks_.empty(); }

  // The client's address. `forwarded_for` is every X-Forwarded-For field of the request joined
  // with commas, in order. Walking from the right, each entry written by a trusted peer is
  // believed; the first address that is not a trusted proxy is the client. A client's own
  // entries (to the left of that) are never believed.
  std::string ClientAddress(std::string_view peer, std::string_view forwarded_for) const;

 private:
  struct Network {
    std::vector<unsigned char> bytes;  // 4 or 16
    int prefix = 0;
  };
  std::vector<Network> networks_;
};

}  // namespace vendo::server
