#include "vending/vend.h"

#include <memory>
#include <utility>

#include "common/log.h"
#include "common/task_runner.h"

namespace vendo::server {
namespace {

// What the audit line will say, and who asked: kept while the request itself is with the
// issuer.
struct Pending {
  std::string device, user, policy_sha256;
  std::int64_t duration = 0;
  std::string request_id, client;
  Sealer seal;
  VendDone done;
};

}  // namespace

void Vend::Refused(const App& app, const Caller& caller, std::string_view outcome,
                   std::string_view device) {
  // A refusal stands whether or not its line is written (the audit log says so in its own log).
  (void)trail_.Record(
      app, caller,
      {.action = "vend", .outcome = outcome, .device = device, .issuer = app.issuer->Kind()});
}

void Vend::Run(const App& app, const Caller& caller, issuer::IssueRequest request, Sealer seal,
               VendDone done) {
  if (auto limited = limiter_.Token(app.config.name, request.device_id, app.config.limits);
      !limited) {
    Refused(app, caller, AuditOutcome(&limited.error()), request.device_id);
    done(std::unexpected(VendFailure{VendStep::kLimit, std::move(limited.error())}));
    return;
  }
  auto pending = std::make_shared<Pending>(Pending{.device = request.device_id,
                                                   .user = request.username.value_or(""),
                                                   .policy_sha256 = request.policy_sha256,
                                                   .duration = request.duration.count(),
                                                   .request_id = std::string(caller.request_id),
                                                   .client = std::string(caller.client),
                                                   .seal = std::move(seal),
                                                   .done = std::move(done)});
  app.issuer->Issue(std::move(request), [this, &app, pending](Result<Credentials> creds) mutable {
    // Sealed now, so that the credentials and the request's state are gone before the write.
    VendResult answer = std::unexpected(VendFailure{VendStep::kIssue, Error{}});
    if (!creds) {
      LogLine(LogLevel::kWarn, "issuer failed")
          .Str("request_id", pending->request_id)
          .Str("app", app.config.name)
          .Str("issuer", app.issuer->Kind())
          .Str("code", ErrorCodeName(creds.error().code))
          .Str("error", creds.error().message)
          .Emit();
      answer = std::unexpected(VendFailure{VendStep::kIssue, std::move(creds.error())});
    } else if (auto body = pending->seal(*creds); !body) {
      answer = std::unexpected(VendFailure{VendStep::kSeal, std::move(body.error())});
    } else {
      answer = std::move(*body);
    }
    // The line says what the client gets: a vend that could not be sealed is no vend.
    const Error* failed = answer ? nullptr : &answer.error().error;
    Caller caller{pending->request_id, pending->client};
    AuditEvent event{.action = "vend",
                     .outcome = AuditOutcome(failed),
                     .device = pending->device,
                     .user = pending->user,
                     .issuer = app.issuer->Kind(),
                     .policy_sha256 = pending->policy_sha256,
                     .duration_seconds = pending->duration};
    VendDone done = std::move(pending->done);
    trail_.RecordThen(
        app, caller, event, CurrentNetworkThread(),
        [done = std::move(done), answer = std::move(answer)](Status audited) mutable {
          if (!audited && answer) {
            // Never hand out credentials that the audit log does not show.
            answer = std::unexpected(VendFailure{VendStep::kAudit, std::move(audited.error())});
          }
          done(std::move(answer));
        });
  });
}

}  // namespace vendo::server
