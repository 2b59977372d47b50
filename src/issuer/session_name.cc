#include "issuer/session_name.h"

#include <algorithm>

#include "common/encoding.h"
#include "common/sorted_pairs.h"
#include "crypto/hmac.h"

namespace vendo::issuer {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

constexpr std::size_t kHashChars = 16;  // 64 bits of SHA-256: collisions are not a concern
constexpr std::string_view kClaim = "claim:";

}  // namespace

bool IsValidSessionName(std::string_view name, std::size_t max_len) {
  if (name.size() < 2 || name.size() > max_len) {
    return false;
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return false;
    }
  }
  return true;
}

std::string MakeSessionName(std::string_view raw, std::size_t max_len) {
  if (IsValidSessionName(raw, max_len)) {
    return std::string(raw);
  }
  std::string hash = HexEncode(crypto::Sha256(AsBytes(raw))).substr(0, kHashChars);
  std::size_t prefix_len = max_len > kHashChars + 1 ? max_len - kHashChars - 1 : 0;
  std::string prefix;
  for (char c : raw.substr(0, prefix_len)) {
    prefix += IsNameChar(c) ? c : '-';
  }
  return prefix.empty() ? hash : prefix + "-" + hash;
}

Result<std::string> ExpandName(std::string_view tmpl, const NameVars& vars) {
  std::string out;
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    std::size_t start = tmpl.find("${", pos);
    if (start == std::string_view::npos) {
      out.append(tmpl.substr(pos));
      break;
    }
    out.append(tmpl.substr(pos, start - pos));
    std::size_t end = tmpl.find('}', start);
    if (end == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "unclosed ${ in \"" + std::string(tmpl) + "\"");
    }
    std::string_view name = tmpl.substr(start + 2, end - start - 2);
    if (name == "app") {
      out.append(vars.app);
    } else if (name == "uid") {
      out.append(vars.uid);
    } else if (name == "username") {
      out.append(vars.username);
    } else if (name == "userid") {
      out.append(vars.userid);
    } else if ((name == "idp" || name.starts_with(kClaim)) && vars.claims == nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  "${" + std::string(name) + "} is only for a federated app's session_name");
    } else if (name == "idp") {
      out.append(vars.idp);
    } else if (name.starts_with(kClaim) && name.size() > kClaim.size()) {
      const std::string* value = FindSorted(*vars.claims, name.substr(kClaim.size()));
      if (value == nullptr) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the identity has no claim " + std::string(name.substr(kClaim.size())));
      }
      out.append(*value);
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown variable ${" + std::string(name) +
                      "} (available: ${app}, ${uid}, ${username}, ${userid}; in federated "
                      "apps also ${idp} and ${claim:NAME})");
    }
    pos = end + 1;
  }
  return out;
}

std::vector<std::string> NameClaims(std::string_view tmpl) {
  std::vector<std::string> out;
  for (std::size_t pos = tmpl.find("${" + std::string(kClaim)); pos != std::string_view::npos;
       pos = tmpl.find("${" + std::string(kClaim), pos + 2)) {
    std::size_t start = pos + 2 + kClaim.size();
    std::size_t end = tmpl.find('}', start);
    if (end == std::string_view::npos) {
      break;
    }
    out.emplace_back(tmpl.substr(start, end - start));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace vendo::issuer
