// KeySource: one OpenID provider's signing keys, fetched and kept fresh.
//
// The keys come from the provider's discovery document (ISSUER/.well-known/openid-configuration,
// whose "issuer" must be ISSUER exactly) -> its "jwks_uri", both over HTTPS verified against
// the system's or the provider's own CA bundle. They are kept for the JWKS answer's
// Cache-Control max-age (within [min_ttl, max_ttl]; default_ttl without one). A token naming a
// key id the set lacks (a rotation) makes a refetch, at most once per min_refetch: a flood of
// made-up key ids costs the provider one request a minute, not one per token. A fetch that
// fails keeps the keys already held, however old: a provider that is down does not stop
// sign-ins whose keys are known. One fetch at a time; callers meanwhile wait for it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "net/transport.h"
#include "oidc/jwk_set.h"

namespace vendo::oidc {

struct KeySourceOptions {
  std::string issuer_url;  // the provider's issuer, as its tokens' "iss" says it
  std::chrono::seconds min_refetch{60};
  std::chrono::seconds default_ttl{3600};
  std::chrono::seconds min_ttl{60};
  std::chrono::seconds max_ttl{86400};
  std::chrono::milliseconds timeout{5000};  // each HTTPS request
};

struct KeySourceStats {
  std::uint64_t fetches = 0;   // JWKS fetches attempted (each with its discovery request)
  std::uint64_t failures = 0;  // of those, how many kept the old keys (or none)
};

class KeySource {
 public:
  KeySource(net::HttpTransport& transport, const Clock& clock, KeySourceOptions options)
      : transport_(transport), clock_(clock), options_(std::move(options)) {}

  // The keys to check a token with; null when there are none (never fetched successfully).
  // Fresh keys answer at once, on the calling thread; otherwise `done` runs when the fetch
  // ends, on any thread. `unknown_kid`: the caller's token names a key the set it was given
  // lacks, so a refetch is due (if min_refetch allows).
  void Keys(bool unknown_kid, std::function<void(std::shared_ptr<const JwkSet>)> done);

  KeySourceStats Stats() const;

 private:
  using Done = std::function<void(std::shared_ptr<const JwkSet>)>;
  void Fetch();
  void FetchKeys(const std::string& jwks_uri);
  // Ends the fetch: keeps `keys` (when not null) for `ttl`, then answers every waiter.
  void Finish(std::shared_ptr<const JwkSet> keys, std::chrono::seconds ttl);
  void Get(const std::string& url, std::function<void(Result<net::HttpReply>)> done);

  net::HttpTransport& transport_;
  const Clock& clock_;
  const KeySourceOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const JwkSet> keys_;
  std::chrono::steady_clock::time_point fresh_until_{};
  std::chrono::steady_clock::time_point last_fetch_{};
  bool fetched_once_ = false;
  bool fetching_ = false;
  std::vector<Done> waiting_;
  KeySourceStats stats_;
};

// The max-age of a Cache-Control value, within [min, max]; `fallback` without one. no-store
// and no-cache count as `min`.
std::chrono::seconds CacheLifetime(std::string_view cache_control, std::chrono::seconds fallback,
                                   std::chrono::seconds min, std::chrono::seconds max);

}  // namespace vendo::oidc
