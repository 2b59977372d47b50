#include "vending/audit_trail.h"

#include <utility>

#include "common/log.h"

namespace vendo::server {

std::string_view AuditOutcome(const Error* error) {
  return error == nullptr ? std::string_view("ok") : ErrorCodeName(error->code);
}

AuditEvent AuditTrail::Prepare(const App& app, const Caller& caller, AuditEvent event) {
  event.app = app.config.name;
  event.request_id = caller.request_id;
  event.client = caller.client;
  recorder_.Event(event.app, event.action, event.outcome);
  return event;
}

Status AuditTrail::Record(const App& app, const Caller& caller, AuditEvent event) {
  return log_.Record(Prepare(app, caller, event));
}

void AuditTrail::RecordThen(const App& app, const Caller& caller, AuditEvent event,
                            TaskRunner* later, AuditLog::Done done) {
  log_.RecordThen(Prepare(app, caller, event), later, std::move(done));
}

Status AuditTrail::RecordChange(const App& app, const Caller& caller, AuditEvent event,
                                const Undo& undo) {
  auto written = Record(app, caller, event);
  if (written || !undo) {
    return {};  // recorded; or a refusal, which stands whether or not its line was written
  }
  // The change stands only if the log shows it: take it back.
  if (auto undone = undo(); !undone) {
    LogLine(LogLevel::kError, "a change the audit log could not record could not be undone")
        .Str("request_id", caller.request_id)
        .Str("app", app.config.name)
        .Str("action", event.action)
        .Str("device", event.device)
        .Str("user", event.user)
        .Str("error", undone.error().message)
        .Emit();
  }
  return written;
}

}  // namespace vendo::server
