// What a client address counts as for per-address limits (registrations, failed logins,
// open connections). An IPv4 address is one client. An IPv6 client usually holds a whole
// /64 (SLAAC, privacy addresses) and can pick any address in it, so IPv6 is counted by its
// first `ipv6_prefix` bits: "2001:db8:1:2::/64". An IPv4-mapped IPv6 address
// (::ffff:10.0.0.7, as a dual-stack listener sees IPv4 clients) counts as its IPv4 address.
#pragma once

#include <string>
#include <string_view>

namespace vendo {

inline constexpr int kDefaultIpv6Prefix = 64;

// The key, or `address` unchanged if it is not an IP address (an empty peer, say).
std::string AddressKey(std::string_view address, int ipv6_prefix);

// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104: tools on the host itself.
bool IsLoopback(std::string_view address);

}  // namespace vendo
