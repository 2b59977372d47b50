// Lookup by name in a vector of (name, value) pairs sorted by name, such as an ID token's
// claims: what the policy template, the session name, the claim rules and the token itself
// all read claims by.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vendo {

// The value named `name`, or nullptr.
template <typename V>
const V* FindSorted(const std::vector<std::pair<std::string, V>>& pairs, std::string_view name) {
  auto it = std::lower_bound(pairs.begin(), pairs.end(), name,
                             [](const auto& p, std::string_view n) { return p.first < n; });
  return it != pairs.end() && it->first == name ? &it->second : nullptr;
}

}  // namespace vendo
