// Issuer: where temporary credentials come from (the dev issuer, STS GetFederationToken,
// STS AssumeRole, ...).
//
// Issue() is asynchronous: a real issuer makes a network call that may be slow, fail or be
// throttled. `done` is called exactly once, on any thread (the caller re-posts to its own
// executor). Implementations are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vendo/credentials.h"
#include "vendo/result.h"

namespace vendo::issuer {

struct IssueRequest {
  std::string app;
  std::string device_id;
  std::optional<std::string> username;  // identity mode only
  std::string session_name;             // already valid for the issuer (see session_name.h)
  std::string policy;                   // rendered session policy (JSON)
  std::string policy_sha256;            // its hex SHA-256, for the audit log (may be empty)
  std::chrono::seconds duration{3600};
  // Session tags beyond vendo's own (AssumeRole only): a federated identity's claims, as
  // its provider's session_tags map them. Values already fit STS's rules (TagValue).
  std::vector<std::pair<std::string, std::string>> session_tags{};
  // AssumeRole only: the role to assume when not the issuer's own (a federated app's claim
  // rule chose it); empty = the issuer's.
  std::string role_arn{};
};

using IssueCallback = std::function<void(Result<Credentials>)>;

class Issuer {
 public:
  virtual ~Issuer() = default;
  virtual void Issue(IssueRequest request, IssueCallback done) = 0;
  // Short name of the mechanism, for logs ("dev", "aws-federation", ...).
  virtual std::string_view Kind() const = 0;
  // Longest session name this issuer accepts (32 for GetFederationToken, 64 for AssumeRole).
  virtual std::size_t MaxSessionNameLength() const = 0;
  // True when the credentials carry the device's identity (session tags): then a user's
  // devices cannot share them, and a cache must key them by device.
  virtual bool BindsDevice() const { return false; }
  // For /readyz: whether the issuer can mint credentials now (an STS issuer: it holds valid
  // credentials of its own). The message says what is missing.
  [[nodiscard]] virtual Status Ready() { return {}; }
};

}  // namespace vendo::issuer
