// Builds each app's issuer from the config: the dev issuer, or an StsIssuer with its HTTPS
// client, STS client and caller-credential chain, each behind a credential cache when the
// cache is enabled. Part of the composition root: only `vendo serve` uses it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "config/config.h"
#include "issuer/caching_issuer.h"
#include "issuer/issuer.h"
#include "metrics/prom_recorder.h"
#include "net/http_client.h"
#include "sts/credential_provider.h"
#include "sts/sts_client.h"

namespace vendo::cli {

class IssuerSet {
 public:
  [[nodiscard]] static Result<std::unique_ptr<IssuerSet>> Build(const server::Config& cfg,
                                                                const Clock& clock, Random& random);
  ~IssuerSet();

  issuer::Issuer* For(const std::string& app) const { return by_app_.at(app).issuer; }
  // One log line per app with its credential cache and STS counters.
  void LogStats() const;
  // The same counters for /metrics, read at each scrape.
  void ExportTo(metrics::PromRecorder& recorder) const;

 private:
  IssuerSet() = default;
  struct AppIssuer {
    issuer::Issuer* issuer = nullptr;            // what the app calls
    issuer::CachingIssuer* cache = nullptr;      // when the cache is on
    const sts::StsClient* sts_client = nullptr;  // for the aws-* issuers
  };
  [[nodiscard]] Result<issuer::Issuer*> BuildSts(const server::AppConfig& app, const Clock& clock,
                                                 Random& random);
  [[nodiscard]] Result<net::HttpClient*> ClientFor(const std::string& ca_file);

  // The destructor stops the HTTP clients first: their threads run callbacks into the rest.
  std::map<std::string, std::unique_ptr<net::HttpClient>> http_by_ca_;
  std::vector<std::unique_ptr<sts::CredentialProvider>> providers_;
  std::vector<std::unique_ptr<sts::StsClient>> sts_clients_;
  std::vector<std::unique_ptr<issuer::Issuer>> issuers_;
  std::vector<std::unique_ptr<issuer::CachingIssuer>> caches_;
  std::map<std::string, AppIssuer> by_app_;
};

}  // namespace vendo::cli
