// Where an issuer's own AWS credentials come from: the standard provider chain.
//
// Order, as the AWS SDKs use it: explicit config (an access key and a secret file, or a
// named profile), then the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), then the shared files (~/.aws/credentials and ~/.aws/config, profile
// AWS_PROFILE or "default"), then the ECS container endpoint
// (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI with its authorization token), then
// EC2 instance metadata with IMDSv2 (a session token first; AWS_EC2_METADATA_DISABLED=true
// turns it off). RefreshingProvider caches the result and fetches temporary credentials
// again a margin before they expire, serving the old ones while they are still valid.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "net/transport.h"
#include "sts/sigv4.h"

namespace vendo::sts {

struct CallerCredentials {
  SigningCredentials signing;
  std::optional<std::chrono::system_clock::time_point> expiration;  // none: long-term keys
  std::string source;  // "environment", "profile vendo", "ecs", "imds role R", ... for logs
};

using CallerCallback = std::function<void(Result<CallerCredentials>)>;

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  // Calls `done` once, maybe on another thread. kNotFound means "not configured here": a
  // chain moves on to the next provider.
  virtual void Fetch(CallerCallback done) = 0;
  // Whether credentials are at hand without waiting (for /readyz). Providers that fetch over
  // the network say so only once they hold valid ones.
  virtual bool Ready() { return true; }
};

// Reads an environment variable; tests inject their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

class StaticProvider final : public CredentialProvider {
 public:
  explicit StaticProvider(CallerCredentials creds) : creds_(std::move(creds)) {}
  void Fetch(CallerCallback done) override { done(creds_); }

 private:
  CallerCredentials creds_;
};

class EnvironmentProvider final : public CredentialProvider {
 public:
  explicit EnvironmentProvider(EnvLookup env) : env_(std::move(env)) {}
  void Fetch(CallerCallback done) override;

 private:
  EnvLookup env_;
};

// The shared credentials and config files. `profile` empty: AWS_PROFILE, else "default".
// The files are read on every Fetch, so edits are picked up at the next refresh.
class SharedFilesProvider final : public CredentialProvider {
 public:
  SharedFilesProvider(EnvLookup env, std::string profile)
      : env_(std::move(env)), profile_(std::move(profile)) {}
  void Fetch(CallerCallback done) override;

 private:
  EnvLookup env_;
  std::string profile_;
};

// The ECS (and EKS Pod Identity) container credentials endpoint.
class ContainerProvider final : public CredentialProvider {
 public:
  ContainerProvider(net::HttpTransport& transport, EnvLookup env)
      : transport_(transport), env_(std::move(env)) {}
  void Fetch(CallerCallback done) override;

 private:
  net::HttpTransport& transport_;
  EnvLookup env_;
};

// EC2 instance metadata, IMDSv2 only (a PUT for a session token, then GETs with it).
class InstanceMetadataProvider final : public CredentialProvider {
 public:
  InstanceMetadataProvider(net::HttpTransport& transport, EnvLookup env)
      : transport_(transport), env_(std::move(env)) {}
  void Fetch(CallerCallback done) override;

 private:
  net::HttpTransport& transport_;
  EnvLookup env_;
};

// Tries each provider in order; the first that has credentials wins. When none has, the
// error lists what each one said.
class ProviderChain final : public CredentialProvider {
 public:
  explicit ProviderChain(std::vector<std::unique_ptr<CredentialProvider>> providers)
      : providers_(std::move(providers)) {}
  void Fetch(CallerCallback done) override;

 private:
  struct Walk;
  void Next(const std::shared_ptr<Walk>& walk);
  std::vector<std::unique_ptr<CredentialProvider>> providers_;
};

// The default chain, without the explicit-config step.
std::unique_ptr<CredentialProvider> DefaultChain(net::HttpTransport& transport,
                                                 const EnvLookup& env, const std::string& profile);

// Caches what `inner` returns. Temporary credentials are fetched again once they are within
// `margin` of expiring; one fetch at a time (callers arriving meanwhile wait for it), and
// while they are still valid a failed refresh serves the old ones. Thread-safe.
class RefreshingProvider final : public CredentialProvider {
 public:
  RefreshingProvider(std::unique_ptr<CredentialProvider> inner, const Clock& clock,
                     std::chrono::seconds margin = std::chrono::minutes(5))
      : inner_(std::move(inner)), clock_(clock), margin_(margin) {}
  void Fetch(CallerCallback done) override;
  // True while valid credentials are cached; when they are due for a refresh (or missing),
  // starts one in the background, so that a load balancer's health checks keep them fresh.
  bool Ready() override;

 private:
  void OnFetched(Result<CallerCredentials> result);

  std::unique_ptr<CredentialProvider> inner_;
  const Clock& clock_;
  std::chrono::seconds margin_;
  std::mutex mu_;
  std::optional<CallerCredentials> cached_;
  bool fetching_ = false;
  std::vector<CallerCallback> waiting_;
};

}  // namespace vendo::sts
