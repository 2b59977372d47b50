#include "deploy/s3_object.h"

#include <future>

#include "sts/sigv4.h"

namespace vendo::deploy {

Status CheckObjectReadable(net::HttpTransport& http, sts::CredentialProvider& credentials,
                           const Clock& clock, const sts::StsEndpoint& s3,
                           const std::string& bucket, const std::string& key) {
  std::promise<Result<sts::CallerCredentials>> got;
  credentials.Fetch([&](Result<sts::CallerCredentials> c) { got.set_value(std::move(c)); });
  auto creds = got.get_future().get();
  if (!creds) {
    return std::unexpected(creds.error());
  }
  bool default_port = (s3.tls && s3.port == 443) || (!s3.tls && s3.port == 80);
  std::string host = default_port ? s3.host : s3.host + ":" + std::to_string(s3.port);
  sts::RequestToSign request{"GET",
                             "/" + bucket + "/" + sts::UriEncode(key, true),
                             "",
                             {{"Host", host}, {"Range", "bytes=0-0"}},
                             ""};
  sts::SigningOptions options;
  options.region = s3.region;
  options.service = "s3";
  options.time = clock.Now();
  options.normalize_path = false;  // S3 keys are taken as they are
  options.sign_body = true;        // S3 wants x-amz-content-sha256
  auto signed_request = sts::Sign(request, creds->signing, options);
  if (!signed_request) {
    return std::unexpected(signed_request.error());
  }
  net::HttpCall call;
  call.host = s3.host;
  call.port = s3.port;
  call.tls = s3.tls;
  call.method = "GET";
  call.path = request.path;
  call.headers = request.headers;
  for (const auto& h : signed_request->headers) {
    call.headers.push_back(h);
  }
  call.timeout = std::chrono::seconds(20);
  std::promise<Result<net::HttpReply>> replied;
  http.Send(std::move(call), [&](Result<net::HttpReply> r) { replied.set_value(std::move(r)); });
  auto reply = replied.get_future().get();
  std::string where = "s3://" + bucket + "/" + key;
  if (!reply) {
    return Fail(reply.error().code,
                "cannot reach S3 to check " + where + ": " + reply.error().message);
  }
  if (reply->status == 200 || reply->status == 206) {
    return {};
  }
  if (reply->body.find("<Code>NoSuchBucket</Code>") != std::string::npos) {
    return Fail(ErrorCode::kNotFound, "the bucket of " + where + " does not exist");
  }
  if (reply->status == 404) {
    return Fail(ErrorCode::kNotFound, where + " does not exist: upload the package first");
  }
  if (reply->status == 403) {
    return Fail(ErrorCode::kPermissionDenied,
                "these credentials may not read " + where + " (HTTP 403)");
  }
  return Fail(ErrorCode::kUnavailable,
              "S3 answered HTTP " + std::to_string(reply->status) + " for " + where);
}

}  // namespace vendo::deploy
