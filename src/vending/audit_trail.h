// AuditTrail: how the use cases write their audit lines. It fills in each event's app,
// request id and client address, counts the event in the metrics, and hands it to the audit
// log (audit.h). A change (a registration, a login, a rotation) stands only if its line is
// written: RecordChange takes it back otherwise. Free of HTTP.
#pragma once

#include <string_view>

#include "common/task_runner.h"
#include "metrics/metrics.h"
#include "vending/app.h"
#include "vending/audit.h"
#include "vending/undo.h"
#include "vendo/result.h"

namespace vendo::server {

// Who asked: what every audit line says of the request.
struct Caller {
  std::string_view request_id;
  std::string_view client;  // the client's address
};

// The audit outcome of a result: "ok", or the error's code name.
std::string_view AuditOutcome(const Error* error);

class AuditTrail {
 public:
  AuditTrail(AuditLog& log, metrics::Recorder& recorder) : log_(log), recorder_(recorder) {}

  // Writes the line now.
  [[nodiscard]] Status Record(const App& app, const Caller& caller, AuditEvent event);
  // Writes the line (on a network thread, with that thread's batch; see AuditLog::RecordThen),
  // then calls `done` with the outcome.
  void RecordThen(const App& app, const Caller& caller, AuditEvent event, TaskRunner* later,
                  AuditLog::Done done);
  // The line of an action. One that changed the store (`undo` set) stands only if its line is
  // written: otherwise `undo` takes the change back and this fails, and the caller answers
  // with a server error. A refusal (no `undo`) stands either way.
  [[nodiscard]] Status RecordChange(const App& app, const Caller& caller, AuditEvent event,
                                    const Undo& undo);

 private:
  AuditEvent Prepare(const App& app, const Caller& caller, AuditEvent event);

  AuditLog& log_;
  metrics::Recorder& recorder_;
};

}  // namespace vendo::server
