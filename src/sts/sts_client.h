// StsClient: GetFederationToken and AssumeRole over the STS Query API (form POST, SigV4), and
// the same signed, retried form POST for other Query API services.
//
// Throttling, 5xx and network errors are retried with capped exponential backoff and full
// jitter, within an overall deadline; 4xx client errors are never retried. Errors carry the
// STS code and request id for logs; the STS message never reaches a device. Thread-safe.
//
// Failures are not amplified. Retries draw on a budget shared by every call of the client
// (gRPC's retry throttling): each retryable failure takes a token, each success gives back a
// tenth, and retries are allowed only while more than half the tokens are left. A healthy STS
// keeps the budget full; while STS fails, each call makes about one attempt, however many
// calls there are. A Throttling answer also holds new calls for a backoff (doubling with
// each throttle in a row, up to max_delay): they fail at once instead of adding to the load.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "net/transport.h"
#include "sts/sigv4.h"
#include "sts/sts_xml.h"
#include "vendo/credentials.h"

namespace vendo::sts {

using net::HttpCall;
using net::HttpReply;
using net::HttpTransport;
using net::Scheduler;

struct StsEndpoint {
  std::string host;  // sts.REGION.amazonaws.com, or a custom endpoint (RGW, MinIO)
  std::uint16_t port = 443;
  bool tls = true;
  std::string region;  // the region the request is signed for
};

// https://sts.eu-west-1.amazonaws.com and the like: signed for that region.
StsEndpoint RegionalEndpoint(const std::string& region);

struct RetryPolicy {
  int max_attempts = 4;
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{2000};
  std::chrono::milliseconds deadline{10000};  // for the whole call, retries included
  // One exchange with STS (connect, send, answer); waiting for a pooled connection is not
  // charged to it, only to the deadline.
  std::chrono::milliseconds attempt_timeout{5000};
  int budget_tokens = 10;  // the retry budget (see above); 0 turns retries off
};

using CredentialsCallback = std::function<void(Result<IssuedCredentials>)>;
using BodyCallback = std::function<void(Result<std::string>)>;

struct StsClientStats {
  std::uint64_t attempts = 0;     // HTTP requests sent
  std::uint64_t retries = 0;      // attempts after a retryable failure
  std::uint64_t throttled = 0;    // Throttling answers
  std::uint64_t failures = 0;     // calls that ended in an error (unparseable answers too)
  std::uint64_t not_retried = 0;  // retryable failures the retry budget did not retry
  std::uint64_t held = 0;         // calls failed at once while STS throttled
};

class StsClient {
 public:
  StsClient(HttpTransport& transport, Scheduler& scheduler, const Clock& clock, Random& random,
            RetryPolicy policy)
      : transport_(transport),
        scheduler_(scheduler),
        clock_(clock),
        random_(random),
        policy_(policy),
        budget_(std::int64_t{policy.budget_tokens} * 1000) {}

  void GetFederationToken(const StsEndpoint& endpoint, const SigningCredentials& caller,
                          const std::string& name, const std::string& policy,
                          std::chrono::seconds duration, CredentialsCallback done);
  void AssumeRole(const StsEndpoint& endpoint, const SigningCredentials& caller,
                  std::string form_body, CredentialsCallback done);
  // Any Query API action of any service (STS, CloudFormation for `vendo deploy`): signed for
  // `service`, retried like the STS calls, and answered with the 200 response's body.
  void Post(const StsEndpoint& endpoint, const SigningCredentials& caller, std::string service,
            std::string form_body, BodyCallback done);

  // Maps an STS failure to vendo's codes: throttling -> kResourceExhausted, other retryable ->
  // kUnavailable, AccessDenied and the like -> kPermissionDenied, other 4xx -> kInvalidArgument.
  static Error ToError(const StsFailure& failure);

  StsClientStats Stats() const;

 private:
  struct Call;
  void Attempt(const std::shared_ptr<Call>& call);
  void OnReply(const std::shared_ptr<Call>& call, Result<HttpReply> reply);
  void RetryOrFail(const std::shared_ptr<Call>& call, Error error);
  void GiveUp(const std::shared_ptr<Call>& call, Error error);
  // The retry budget, in thousandths of a token.
  bool SpendOnFailure();
  void CreditSuccess();
  void NoteThrottle(bool throttled);

  HttpTransport& transport_;
  Scheduler& scheduler_;
  const Clock& clock_;
  Random& random_;
  RetryPolicy policy_;
  std::atomic<std::uint64_t> attempts_{0}, retries_{0}, throttled_{0}, failures_{0},
      not_retried_{0}, held_{0};
  std::atomic<std::int64_t> budget_;  // thousandths of a token
  std::atomic<int> throttles_in_a_row_{0};
  std::atomic<std::int64_t> hold_until_{0};  // steady ns: new calls fail until then
};

}  // namespace vendo::sts
