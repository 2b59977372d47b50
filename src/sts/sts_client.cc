#include "sts/sts_client.h"

#include <algorithm>
#include <cstring>

#include "common/encoding.h"
#include "common/log.h"

namespace vendo::sts {

struct StsClient::Call {
  StsEndpoint endpoint;
  SigningCredentials caller;
  std::string service;
  std::string body;
  BodyCallback done;
  int attempts = 0;
  std::chrono::steady_clock::time_point deadline;
};

namespace {

std::int64_t SteadyNanos(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

StsEndpoint RegionalEndpoint(const std::string& region) {
  return StsEndpoint{"sts." + region + ".amazonaws.com", 443, true, region};
}

Error StsClient::ToError(const StsFailure& f) {
  std::string message = AsciiUpper(f.service) + " " +
                        (f.code.empty() ? std::string("error") : f.code) + " (HTTP " +
                        std::to_string(f.http_status) + ", request id " +
                        (f.request_id.empty() ? std::string("none") : f.request_id) + ")";
  if (!f.message.empty()) {
    message += ": " + f.message;  // for the operator's log; devices only ever see 500
  }
  ErrorCode code = ErrorCode::kInvalidArgument;
  if (f.throttled) {
    code = ErrorCode::kResourceExhausted;
  } else if (f.retryable) {
    code = ErrorCode::kUnavailable;
  } else if (f.http_status == 401 || f.http_status == 403 || f.code == "AccessDenied" ||
             f.code == "InvalidClientTokenId" || f.code == "SignatureDoesNotMatch" ||
             f.code == "ExpiredToken") {
    code = ErrorCode::kPermissionDenied;
  }
  return Error{code, std::move(message)};
}

void StsClient::GetFederationToken(const StsEndpoint& endpoint, const SigningCredentials& caller,
                                   const std::string& name, const std::string& policy,
                                   std::chrono::seconds duration, CredentialsCallback done) {
  AssumeRole(endpoint, caller, GetFederationTokenForm(name, policy, duration), std::move(done));
}

void StsClient::AssumeRole(const StsEndpoint& endpoint, const SigningCredentials& caller,
                           std::string form_body, CredentialsCallback done) {
  Post(endpoint, caller, "sts", std::move(form_body),
       [this, done = std::move(done)](Result<std::string> body) {
         if (!body) {
           done(std::unexpected(body.error()));
           return;
         }
         auto creds = ParseCredentialsResponse(*body);
         if (!creds) {
           failures_.fetch_add(1, std::memory_order_relaxed);  // an answer we cannot use
         }
         done(std::move(creds));
       });
}

void StsClient::Post(const StsEndpoint& endpoint, const SigningCredentials& caller,
                     std::string service, std::string form_body, BodyCallback done) {
  auto call = std::make_shared<Call>();
  call->endpoint = endpoint;
  call->caller = caller;
  call->service = std::move(service);
  call->body = std::move(form_body);
  call->done = std::move(done);
  auto now = clock_.Steady();
  call->deadline = now + policy_.deadline;
  if (auto hold = hold_until_.load(std::memory_order_relaxed); SteadyNanos(now) < hold) {
    held_.fetch_add(1, std::memory_order_relaxed);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(hold - SteadyNanos(now)));
    call->done(Fail(ErrorCode::kResourceExhausted,
                    AsciiUpper(call->service) + " is throttling: new calls held for another " +
                        std::to_string(left.count()) + " ms"));
    return;
  }
  Attempt(call);
}

bool StsClient::SpendOnFailure() {
  if (policy_.budget_tokens <= 0) {
    return false;
  }
  std::int64_t seen = budget_.load(std::memory_order_relaxed);
  std::int64_t left = 0;
  do {
    left = std::max<std::int64_t>(0, seen - 1000);
  } while (!budget_.compare_exchange_weak(seen, left, std::memory_order_relaxed));
  return left > std::int64_t{policy_.budget_tokens} * 500;  // more than half left
}

void StsClient::CreditSuccess() {
  std::int64_t full = std::int64_t{policy_.budget_tokens} * 1000;
  std::int64_t seen = budget_.load(std::memory_order_relaxed);
  while (seen < full && !budget_.compare_exchange_weak(seen, std::min(full, seen + 100),
                                                       std::memory_order_relaxed)) {
  }
}

void StsClient::NoteThrottle(bool throttled) {
  if (!throttled) {
    throttles_in_a_row_.store(0, std::memory_order_relaxed);
    return;
  }
  int in_a_row = std::min(throttles_in_a_row_.fetch_add(1, std::memory_order_relaxed) + 1, 30);
  auto hold = std::min<std::chrono::milliseconds>(
      policy_.max_delay, policy_.base_delay * (std::int64_t{1} << (in_a_row - 1)));
  std::int64_t until = SteadyNanos(clock_.Steady() + hold);
  std::int64_t seen = hold_until_.load(std::memory_order_relaxed);
  while (seen < until &&
         !hold_until_.compare_exchange_weak(seen, until, std::memory_order_relaxed)) {
  }
}

StsClientStats StsClient::Stats() const {
  return StsClientStats{attempts_.load(), retries_.load(),     throttled_.load(),
                        failures_.load(), not_retried_.load(), held_.load()};
}

void StsClient::GiveUp(const std::shared_ptr<Call>& call, Error error) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  call->done(std::unexpected(std::move(error)));
}

void StsClient::Attempt(const std::shared_ptr<Call>& call) {
  ++call->attempts;
  attempts_.fetch_add(1, std::memory_order_relaxed);
  const StsEndpoint& ep = call->endpoint;
  bool default_port = (ep.tls && ep.port == 443) || (!ep.tls && ep.port == 80);
  std::string host = default_port ? ep.host : ep.host + ":" + std::to_string(ep.port);
  RequestToSign request{
      "POST",
      "/",
      "",
      {{"Host", host}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
      call->body};
  SigningOptions options;
  options.region = ep.region;
  options.service = call->service;
  options.time = clock_.Now();  // signed afresh on every attempt
  auto signed_request = Sign(request, call->caller, options);
  if (!signed_request) {
    GiveUp(call, signed_request.error());
    return;
  }
  HttpCall http;
  http.host = ep.host;
  http.port = ep.port;
  http.tls = ep.tls;
  http.headers = request.headers;
  http.headers.insert(http.headers.end(), signed_request->headers.begin(),
                      signed_request->headers.end());
  http.body = call->body;
  auto remaining = std::max(
      std::chrono::milliseconds(1),
      std::chrono::duration_cast<std::chrono::milliseconds>(call->deadline - clock_.Steady()));
  http.timeout = std::min(policy_.attempt_timeout, remaining);
  http.overall_timeout = remaining;  // a wait for a pooled connection is charged here only
  transport_.Send(std::move(http),
                  [this, call](Result<HttpReply> reply) { OnReply(call, std::move(reply)); });
}

void StsClient::OnReply(const std::shared_ptr<Call>& call, Result<HttpReply> reply) {
  if (!reply) {
    RetryOrFail(call, Error{ErrorCode::kUnavailable, "STS unreachable: " + reply.error().message});
    return;
  }
  if (reply->status == 200) {
    NoteThrottle(false);
    CreditSuccess();
    call->done(std::move(reply->body));
    return;
  }
  StsFailure failure = ParseErrorResponse(reply->status, reply->body);
  failure.service = call->service;
  NoteThrottle(failure.throttled);
  if (failure.throttled) {
    throttled_.fetch_add(1, std::memory_order_relaxed);
  }
  if (failure.retryable) {
    RetryOrFail(call, ToError(failure));
    return;
  }
  GiveUp(call, ToError(failure));
}

void StsClient::RetryOrFail(const std::shared_ptr<Call>& call, Error error) {
  bool budget = SpendOnFailure();
  if (call->attempts >= policy_.max_attempts) {
    error.message += " (gave up after " + std::to_string(call->attempts) + " attempts)";
    GiveUp(call, std::move(error));
    return;
  }
  if (!budget) {
    not_retried_.fetch_add(1, std::memory_order_relaxed);
    error.message += " (not retried: STS keeps failing, the retry budget is spent)";
    GiveUp(call, std::move(error));
    return;
  }
  // Full jitter: a uniform delay in [0, min(max, base * 2^(attempts-1))].
  int doublings = std::min(call->attempts - 1, 30);  // no overflow however many attempts
  auto cap = std::min<std::chrono::milliseconds>(
      policy_.max_delay, policy_.base_delay * (std::int64_t{1} << doublings));
  std::uint64_t r = 0;
  auto bytes = random_.Bytes(sizeof r);
  std::memcpy(&r, bytes.data(), sizeof r);
  std::chrono::milliseconds delay(static_cast<std::int64_t>(r % (cap.count() + 1)));
  auto now = clock_.Steady();
  if (auto hold = hold_until_.load(std::memory_order_relaxed); SteadyNanos(now) < hold) {
    // STS asked us to slow down: no retry before the hold ends.
    delay = std::max(delay, std::chrono::ceil<std::chrono::milliseconds>(
                                std::chrono::nanoseconds(hold - SteadyNanos(now))));
  }
  if (now + delay >= call->deadline) {
    error.message += " (deadline reached after " + std::to_string(call->attempts) + " attempts)";
    GiveUp(call, std::move(error));
    return;
  }
  retries_.fetch_add(1, std::memory_order_relaxed);
  // Throttling and outages show in the log as they happen, not only when a call gives up.
  LogLine(LogLevel::kWarn, "sts retry")
      .Str("host", call->endpoint.host)
      .Int("attempt", call->attempts)
      .Int("delay_ms", delay.count())
      .Bool("throttled", error.code == ErrorCode::kResourceExhausted)
      .Str("error", error.message)
      .Emit();
  scheduler_.After(delay, [this, call] { Attempt(call); });
}

}  // namespace vendo::sts
