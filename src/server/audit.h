// The audit log: one JSON line per registration, login, vend and administrative change, with
// who (device, user, client address), which app and issuer, the policy's hash, the duration,
// the outcome and the request id. Never a secret: no keys, passwords, signatures or
// credentials reach it.
//
// Lines are written synchronously, each with one write(2), so a line that was recorded is in
// the file. If the sink cannot be written, Record fails and the server refuses to vend (as
// Vault does): credentials are never handed out unaudited.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "vendo/result.h"

namespace vendo::server {

struct AuditEvent {
  std::string_view action{};   // register_device, register_user, login, vend, ...
  std::string_view outcome{};  // "ok", or the error code's name ("unauthenticated", ...)
  std::string_view app{};
  std::string_view request_id{};
  std::string_view client{};  // address
  std::string_view device{};  // uid
  std::string_view user{};    // username
  std::string_view issuer{};
  std::string_view policy_sha256{};  // of the rendered policy (vend)
  std::int64_t duration_seconds = 0;
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Writes one line (with its newline) in full, or fails.
  virtual Status Write(std::string_view line) = 0;
};

// Appends to a file (created 0600) or, with an empty path, writes to stderr.
Result<std::unique_ptr<AuditSink>> OpenAuditSink(const std::string& path);

class AuditLog {
 public:
  AuditLog(AuditSink& sink, const Clock& clock) : sink_(sink), clock_(clock) {}
  Status Record(const AuditEvent& event);
  // The line Record writes (for tests).
  std::string Format(const AuditEvent& event) const;

 private:
  AuditSink& sink_;
  const Clock& clock_;
};

// Hex SHA-256 of a rendered policy, as the audit log and the credential cache name it.
std::string PolicyHash(std::string_view policy);

}  // namespace vendo::server
