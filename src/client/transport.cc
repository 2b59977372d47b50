// The default Transport (net::HttpClient, waited on) and the other small public helpers.
#include <boost/json.hpp>
#include <future>

#include "client/wire.h"
#include "common/encoding.h"
#include "common/random.h"
#include "net/http_client.h"
#include "net/url.h"
#include "protocol/timestamp.h"
#include "vendo/client.h"

namespace vendo::client {
namespace {

class NetTransport final : public Transport {
 public:
  explicit NetTransport(std::unique_ptr<net::HttpClient> http) : http_(std::move(http)) {}

  Result<HttpResponse> Send(const HttpRequest& request,
                            std::chrono::milliseconds timeout) override {
    auto url = net::ParseHttpUrl(request.url);
    if (!url) {
      return std::unexpected(url.error());
    }
    net::HttpCall call{.host = url->host,
                       .port = url->port,
                       .tls = url->tls,
                       .method = request.method,
                       .path = url->path_and_query,
                       .headers = request.headers,
                       .body = request.body,
                       .timeout = timeout};
    std::promise<Result<net::HttpReply>> promise;
    auto future = promise.get_future();
    http_->Send(std::move(call),
                [&promise](Result<net::HttpReply> reply) { promise.set_value(std::move(reply)); });
    auto reply = future.get();
    if (!reply) {
      return std::unexpected(reply.error());
    }
    return HttpResponse{.status = reply->status,
                        .headers = std::move(reply->headers),
                        .body = std::move(reply->body)};
  }

 private:
  std::unique_ptr<net::HttpClient> http_;
};

class RealTime final : public TimeSource {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace

namespace {
std::string FindHeader(const std::vector<std::pair<std::string, std::string>>& headers,
                       std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) {
      return v;
    }
  }
  return {};
}
}  // namespace

std::string HttpRequest::Header(std::string_view name) const { return FindHeader(headers, name); }
std::string HttpResponse::Header(std::string_view name) const { return FindHeader(headers, name); }

Result<std::unique_ptr<Transport>> DefaultTransport(const std::string& ca_file) {
  net::HttpClientOptions options;
  options.ca_file = ca_file;
  options.max_connections_per_host = 4;
  options.max_idle_per_host = 2;
  auto http = net::HttpClient::Create(options);
  if (!http) {
    return std::unexpected(http.error());
  }
  return std::unique_ptr<Transport>(std::make_unique<NetTransport>(std::move(*http)));
}

std::shared_ptr<const TimeSource> SystemTime() {
  static const auto time = std::make_shared<const RealTime>();
  return time;
}

namespace {

class OsRandomSource final : public RandomSource {
 public:
  void Fill(std::span<std::uint8_t> out) override { random_.Fill(out); }

 private:
  OsRandom random_;
};

}  // namespace

std::shared_ptr<RandomSource> SystemRandom() { return std::make_shared<OsRandomSource>(); }

std::string CredentialProcessJson(const Credentials& c) {
  // The format the AWS CLI and SDKs read from a credential_process (Version 1).
  boost::json::object obj{{"Version", 1},
                          {"AccessKeyId", c.access_key_id},
                          {"SecretAccessKey", c.secret_access_key},
                          {"SessionToken", c.session_token},
                          {"Expiration", protocol::IsoSeconds(c.expiration)}};
  return boost::json::serialize(obj);
}

}  // namespace vendo::client
