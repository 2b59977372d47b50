#include "cli/issuers.h"

#include <cstdlib>
#include <utility>

#include "common/log.h"
#include "common/secret_file.h"
#include "issuer/dev_issuer.h"
#include "issuer/sts_issuer.h"
#include "net/url.h"

namespace vendo::cli {
namespace {

// The AWS SDKs' standard endpoint overrides (a VPC endpoint, an STS-compatible store), used
// when the app's config names no endpoint: AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL.
std::pair<std::string, std::string> EndpointFromEnvironment() {
  for (const char* name : {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') {
      return {name, v};
    }
  }
  return {};
}

}  // namespace

IssuerSet::~IssuerSet() { http_by_ca_.clear(); }

Result<net::HttpClient*> IssuerSet::ClientFor(const std::string& ca_file) {
  auto it = http_by_ca_.find(ca_file);
  if (it != http_by_ca_.end()) {
    return it->second.get();
  }
  net::HttpClientOptions options;
  options.ca_file = ca_file;
  auto client = net::HttpClient::Create(options);
  if (!client) {
    return std::unexpected(client.error());
  }
  return http_by_ca_.emplace(ca_file, std::move(*client)).first->second.get();
}

Result<issuer::Issuer*> IssuerSet::BuildSts(const server::AppConfig& app, const Clock& clock,
                                            Random& random) {
  const server::AwsIssuerConfig& aws = app.aws;
  auto http = ClientFor(aws.ca_file);
  if (!http) {
    return std::unexpected(http.error());
  }
  std::unique_ptr<sts::CredentialProvider> source;
  if (!aws.access_key_id.empty()) {
    auto secret = ReadSecretFile(aws.secret_access_key_file);
    if (!secret) {
      return std::unexpected(secret.error());
    }
    sts::CallerCredentials creds;
    creds.signing.access_key_id = aws.access_key_id;
    creds.signing.secret_access_key = std::move(*secret);
    creds.source = "config";
    source = std::make_unique<sts::StaticProvider>(std::move(creds));
  } else {
    source = sts::DefaultChain(**http, sts::ProcessEnvironment(), aws.profile);
  }
  providers_.push_back(
      std::make_unique<sts::RefreshingProvider>(std::move(source), clock, std::chrono::minutes(5)));
  // Fetch now, so /readyz is right from the start and a missing credential shows at once.
  providers_.back()->Fetch([app = app.name](Result<sts::CallerCredentials> creds) {
    if (creds) {
      LogLine(LogLevel::kInfo, "issuer credentials")
          .Str("app", app)
          .Str("source", creds->source)
          .Str("access_key_id", creds->signing.access_key_id)
          .Emit();
    } else {
      LogLine(LogLevel::kWarn, "issuer has no AWS credentials yet")
          .Str("app", app)
          .Str("error", creds.error().message)
          .Emit();
    }
  });

  sts::RetryPolicy retry;
  retry.deadline = aws.deadline;
  retry.max_attempts = aws.max_attempts;
  retry.attempt_timeout = aws.attempt_timeout;
  sts_clients_.push_back(std::make_unique<sts::StsClient>(**http, **http, clock, random, retry));

  issuer::StsIssuerOptions options;
  options.action = app.issuer == "aws-federation"
                       ? issuer::StsIssuerOptions::Action::kGetFederationToken
                       : issuer::StsIssuerOptions::Action::kAssumeRole;
  auto [variable, from_env] = EndpointFromEnvironment();
  if (aws.endpoint.empty() && from_env.empty()) {
    options.endpoint = sts::RegionalEndpoint(aws.region);
  } else {
    const std::string& text = aws.endpoint.empty() ? from_env : aws.endpoint;
    auto url = net::ParseHttpUrl(text);  // the config's was checked at load
    if (!url || url->path_and_query != "/") {
      return Fail(ErrorCode::kInvalidArgument,
                  variable + " must be scheme://host[:port] with no path, not " + text);
    }
    options.endpoint = sts::StsEndpoint{url->host, url->port, url->tls, aws.region};
    if (aws.endpoint.empty()) {
      LogLine(LogLevel::kInfo, "sts endpoint from the environment")
          .Str("app", app.name)
          .Str("variable", variable)
          .Str("endpoint", text)
          .Emit();
    }
  }
  options.role_arn = aws.role_arn;
  options.external_id = aws.external_id;
  options.source_identity = aws.source_identity;
  options.session_tags = aws.session_tags;
  issuers_.push_back(std::make_unique<issuer::StsIssuer>(*sts_clients_.back(), *providers_.back(),
                                                         clock, std::move(options)));
  return issuers_.back().get();
}

Result<std::unique_ptr<IssuerSet>> IssuerSet::Build(const server::Config& cfg, const Clock& clock,
                                                    Random& random) {
  std::unique_ptr<IssuerSet> set(new IssuerSet());
  issuer::Issuer* dev = nullptr;
  for (const auto& app : cfg.apps) {
    AppIssuer entry;
    issuer::Issuer* base = nullptr;
    if (app.issuer == "dev") {
      if (dev == nullptr) {
        set->issuers_.push_back(std::make_unique<issuer::DevIssuer>(clock, random));
        dev = set->issuers_.back().get();
      }
      base = dev;
    } else {
      auto sts = set->BuildSts(app, clock, random);
      if (!sts) {
        return Fail(sts.error().code, "apps." + app.name + ": " + sts.error().message);
      }
      base = *sts;
      entry.sts_client = set->sts_clients_.back().get();
    }
    if (cfg.credential_cache.enabled) {
      set->caches_.push_back(std::make_unique<issuer::CachingIssuer>(
          *base, clock, random, cfg.credential_cache.max_entries,
          issuer::FailureCacheOptions{cfg.credential_cache.failure_ttl,
                                      cfg.credential_cache.refused_ttl}));
      base = set->caches_.back().get();
      entry.cache = set->caches_.back().get();
    }
    entry.issuer = base;
    set->by_app_[app.name] = entry;
  }
  return set;
}

void IssuerSet::ExportTo(metrics::PromRecorder& recorder) const {
  for (const auto& [name, entry] : by_app_) {
    recorder.AddIssuer(name, std::string(entry.issuer->Kind()), [entry] {
      metrics::IssuerCounters out;
      if (entry.cache != nullptr) {
        auto c = entry.cache->Stats();
        out.cache_hits = c.hits + c.shared;
        out.cache_misses = c.misses;
        out.cache_failed_fast = c.failed_fast;
      }
      if (entry.sts_client != nullptr) {
        auto s = entry.sts_client->Stats();
        out.sts_calls = s.attempts;
        out.sts_errors = s.failures;
        out.sts_throttles = s.throttled;
        out.sts_not_retried = s.not_retried;
        out.sts_held = s.held;
      }
      return out;
    });
  }
}

void IssuerSet::LogStats() const {
  for (const auto& [name, entry] : by_app_) {
    LogLine line(LogLevel::kInfo, "issuer stats");
    line.Str("app", name).Str("issuer", entry.issuer->Kind());
    if (entry.cache != nullptr) {
      auto c = entry.cache->Stats();
      line.Int("cache_hits", static_cast<std::int64_t>(c.hits))
          .Int("cache_misses", static_cast<std::int64_t>(c.misses))
          .Int("cache_shared", static_cast<std::int64_t>(c.shared))
          .Int("issuer_errors", static_cast<std::int64_t>(c.issuer_errors))
          .Int("served_stale", static_cast<std::int64_t>(c.served_stale));
    }
    if (entry.sts_client != nullptr) {
      auto s = entry.sts_client->Stats();
      line.Int("sts_attempts", static_cast<std::int64_t>(s.attempts))
          .Int("sts_retries", static_cast<std::int64_t>(s.retries))
          .Int("sts_throttled", static_cast<std::int64_t>(s.throttled))
          .Int("sts_failures", static_cast<std::int64_t>(s.failures));
    }
    line.Emit();
  }
}

}  // namespace vendo::cli
