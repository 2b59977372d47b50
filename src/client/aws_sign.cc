// SignAwsRequest: the public face of sts/sigv4 for apps that call AWS themselves.
#include "common/encoding.h"
#include "net/url.h"
#include "sts/sigv4.h"
#include "vendo/client.h"

namespace vendo::client {

Status SignAwsRequest(HttpRequest& request, const Credentials& credentials, std::string_view region,
                      std::string_view service, std::chrono::system_clock::time_point now) {
  auto url = net::ParseHttpUrl(request.url);
  if (!url) {
    return std::unexpected(url.error());
  }
  bool default_port = url->port == (url->tls ? 443 : 80);
  std::string host = default_port ? url->host : url->host + ":" + std::to_string(url->port);
  std::string_view target = url->path_and_query;
  auto q = target.find('?');
  // S3 signs the path encoded once, as sent; the signer encodes what it is given, so give it
  // the decoded path.
  std::string path;
  if (!PercentDecode(target.substr(0, q), path, false)) {
    return Fail(ErrorCode::kInvalidArgument, "the URL's path is not percent-encoded properly");
  }
  sts::RequestToSign to_sign{
      .method = request.method,
      .path = std::move(path),
      .query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1)),
      .headers = request.headers,
      .body = request.body};
  to_sign.headers.emplace_back("Host", host);
  auto signed_request = sts::Sign(
      to_sign,
      sts::SigningCredentials{.access_key_id = credentials.access_key_id,
                              .secret_access_key = SecretString(credentials.secret_access_key),
                              .session_token = credentials.session_token},
      sts::SigningOptions{.region = std::string(region),
                          .service = std::string(service),
                          .time = now,
                          .normalize_path = false,
                          .sign_body = true});
  if (!signed_request) {
    return std::unexpected(signed_request.error());
  }
  request.headers.emplace_back("Host", host);
  for (auto& header : signed_request->headers) {
    request.headers.push_back(std::move(header));
  }
  return {};
}

}  // namespace vendo::client
