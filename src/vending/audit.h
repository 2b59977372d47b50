// The audit log: one JSON line per registration, login, vend and administrative change, with
// who (device, user, client address), which app and issuer, the policy's hash, the duration,
// the outcome and the request id. Never a secret: no keys, passwords, signatures or
// credentials reach it.
//
// A line is in the file before the answer it audits leaves: Record writes it at once, and
// RecordThen on a network thread collects the lines of a few turns of the event loop, writes
// them with one write(2) and only then lets their answers go (see RecordThen). If the sink cannot
// be written, the record fails and the server refuses to vend (as Vault does): credentials are
// never handed out unaudited.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/task_runner.h"
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
  [[nodiscard]] virtual Status Write(std::string_view line) = 0;
};

// Appends to a file (created 0600) or, with an empty path, writes to stderr.
[[nodiscard]] Result<std::unique_ptr<AuditSink>> OpenAuditSink(const std::string& path);

class AuditLog {
 public:
  using Done = std::function<void(Status)>;
  static constexpr std::size_t kMaxBatchBytes = std::size_t{64} * 1024;
  static constexpr int kMaxTurns = 4;

  AuditLog(AuditSink& sink, const Clock& clock) : sink_(sink), clock_(clock) {}
  [[nodiscard]] Status Record(const AuditEvent& event);
  // Records `event` and then calls `done` with the outcome. With a runner that runs its tasks
  // on the calling thread (a network thread's, see CurrentNetworkThread), the line waits in
  // this thread's batch, which is written at once (then each `done` is called in order) when
  // a turn of the event loop adds nothing to it, after kMaxTurns turns, or past
  // kMaxBatchBytes. An idle server so answers after one more turn; a busy one writes and
  // answers larger batches: fewer writes, and answers that leave together wake each client
  // once for several (measured: see docs/decisions.md). Without a runner it is Record, then
  // `done`. The event's fields are read before this returns.
  void RecordThen(const AuditEvent& event, TaskRunner* later, Done done);
  // The line Record writes (for tests).
  std::string Format(const AuditEvent& event) const;

 private:
  struct Batch {
    std::string lines;
    std::vector<Done> waiters;
    bool scheduled = false;  // a Turn is posted
    int turns = 0;           // turns waited so far
    std::size_t seen = 0;    // waiters at the last Turn
  };
  Batch& ThreadBatch();
  void AppendLine(std::string& out, const AuditEvent& event) const;
  // Runs once per turn of the event loop while the batch waits: flushes it, or waits on.
  void Turn(Batch& batch, TaskRunner* later);
  void Flush(Batch& batch);

  AuditSink& sink_;
  const Clock& clock_;
};

}  // namespace vendo::server
