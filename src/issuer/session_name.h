// STS names: GetFederationToken's Name (2..32) and AssumeRole's RoleSessionName (2..64) must
// match [\w+=,.@-]. The 2012 servers passed uids and usernames through unchanged, so a long
// uid got a 500 at every /gettoken. vendo makes any input valid, deterministically.
#pragma once

#include <string>
#include <string_view>

namespace vendo::issuer {

bool IsValidSessionName(std::string_view name, std::size_t max_len);

// Returns `raw` when it is already valid. Otherwise a readable prefix (invalid characters
// replaced by '-') plus '-' and a hash of `raw`, so different inputs get different names.
std::string MakeSessionName(std::string_view raw, std::size_t max_len);

}  // namespace vendo::issuer
