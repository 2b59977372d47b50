// The token vend: one use case that both protocols call once they have verified the device
// (its grant, an issuer::IssueRequest). In order:
//   1. limit: the token is counted against the device's per-minute budget (only after the
//      device proved itself, so that a stranger cannot spend it);
//   2. issue: the app's issuer mints the credentials (asynchronous, any thread);
//   3. seal: the protocol's sealer turns them into the answer's body (the 2012 AES wrap,
//      v2's JSON or sealed JSON), so that all that waits for the audit write is the answer;
//   4. audit: the line says what the client got; on a network thread it joins that thread's
//      batch (AuditLog::RecordThen), elsewhere it is written at once;
// and then `done` gets the body, or which step failed and why. Every outcome is audited: a
// refusal before the grant (bad signature, replay) through Refused. Free of HTTP: each
// protocol maps a VendFailure to its own answer.
#pragma once

#include <expected>
#include <functional>
#include <string>
#include <string_view>

#include "issuer/issuer.h"
#include "vending/app.h"
#include "vending/audit_trail.h"
#include "vending/limits.h"
#include "vendo/credentials.h"
#include "vendo/result.h"

namespace vendo::server {

enum class VendStep {
  kLimit,  // the device asked too often (kResourceExhausted, with a retry_after)
  kIssue,  // the issuer failed (STS down, throttled, refused)
  kSeal,   // the credentials could not be sealed
  kAudit,  // the audit line could not be written: no credentials go out
};

struct VendFailure {
  VendStep step;
  Error error;
};

using VendResult = std::expected<std::string, VendFailure>;
// Makes the answer's body from the credentials (called once, on the issuer's thread).
using Sealer = std::function<Result<std::string>(const Credentials&)>;
using VendDone = std::function<void(VendResult)>;

class Vend {
 public:
  Vend(Limiter& limiter, AuditTrail& trail) : limiter_(limiter), trail_(trail) {}

  // Vends to the device `request` names; `done` is called exactly once, on any thread.
  void Run(const App& app, const Caller& caller, issuer::IssueRequest request, Sealer seal,
           VendDone done);
  // The audit line of a token request refused before it had a grant.
  void Refused(const App& app, const Caller& caller, std::string_view outcome,
               std::string_view device = {});

 private:
  Limiter& limiter_;
  AuditTrail& trail_;
};

}  // namespace vendo::server
