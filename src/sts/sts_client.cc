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
  std::chrono::system_clock::time_point deadline;
};

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
       [done = std::move(done)](Result<std::string> body) {
         if (!body) {
           done(std::unexpected(body.error()));
           return;
         }
         done(ParseCredentialsResponse(*body));
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
  call->deadline = clock_.Now() + policy_.deadline;
  Attempt(call);
}

StsClientStats StsClient::Stats() const {
  return StsClientStats{attempts_.load(), retries_.load(), throttled_.load(), failures_.load()};
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
  auto remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(call->deadline - clock_.Now());
  http.timeout =
      std::max(std::chrono::milliseconds(1), std::min(policy_.attempt_timeout, remaining));
  transport_.Send(std::move(http),
                  [this, call](Result<HttpReply> reply) { OnReply(call, std::move(reply)); });
}

void StsClient::OnReply(const std::shared_ptr<Call>& call, Result<HttpReply> reply) {
  if (!reply) {
    RetryOrFail(call, Error{ErrorCode::kUnavailable, "STS unreachable: " + reply.error().message});
    return;
  }
  if (reply->status == 200) {
    call->done(std::move(reply->body));
    return;
  }
  StsFailure failure = ParseErrorResponse(reply->status, reply->body);
  failure.service = call->service;
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
  if (call->attempts >= policy_.max_attempts) {
    error.message += " (gave up after " + std::to_string(call->attempts) + " attempts)";
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
  if (clock_.Now() + delay >= call->deadline) {
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
