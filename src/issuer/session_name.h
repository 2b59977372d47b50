// STS names: GetFederationToken's Name (2..32) and AssumeRole's RoleSessionName (2..64) must
// match [\w+=,.@-]. The 2012 servers passed uids and usernames through unchanged, so a long
// uid got a 500 at every /gettoken. vendo makes any input valid, deterministically.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vendo/result.h"

namespace vendo::issuer {

bool IsValidSessionName(std::string_view name, std::size_t max_len);

// Returns `raw` when it is already valid. Otherwise a readable prefix (invalid characters
// replaced by '-') plus '-' and a hash of `raw`, so different inputs get different names.
std::string MakeSessionName(std::string_view raw, std::size_t max_len);

// Values for name templates (the app's session_name and source_identity).
struct NameVars {
  std::string_view app;
  std::string_view uid;
  std::string_view username;  // empty in anonymous mode
  std::string_view userid;    // empty in anonymous mode
  // Federated apps only: the provider's name (${idp}) and the identity's verified claims,
  // sorted by name (${claim:NAME}). Null: not a federated app, and those are errors.
  std::string_view idp = {};
  const std::vector<std::pair<std::string, std::string>>* claims = nullptr;
};

// Expands ${app}, ${uid}, ${username} and ${userid} in `tmpl`, and in federated apps ${idp}
// and ${claim:NAME}. Any other ${...}, an unclosed one, or a claim `claims` lacks is an error
// (kInvalidArgument; config load checks templates with empty values, and no claims).
[[nodiscard]] Result<std::string> ExpandName(std::string_view tmpl, const NameVars& vars);
// The claims `tmpl` uses (${claim:NAME}), sorted, without repeats.
std::vector<std::string> NameClaims(std::string_view tmpl);

}  // namespace vendo::issuer
