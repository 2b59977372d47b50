// CachingIssuer: reuses credentials per (app, principal, rendered policy) until a refresh
// margin before they expire, so a device asking again gets the same credentials (freshly
// encrypted) instead of a new STS call. The 2012 TVM made one STS call per /gettoken; its
// spec recommends exactly this cache.
//
//  - Margin: 15 minutes, or a fifth of the credentials' lifetime if that is shorter.
//  - Concurrent requests for the same key share one call to the inner issuer.
//  - When the inner issuer fails, a cached credential that has not expired yet is served.
//  - Otherwise the failure itself is remembered for the principal (a negative entry), so that
//    while STS fails a principal costs one call per `failure_ttl`, not one per request: a
//    short while for a failure that may pass (throttling, 5xx, a timeout), longer for a
//    refusal (AccessDenied, a policy STS rejects). Each gets up to half again as jitter, so
//    principals refused together do not all come back in the same instant.
//  - Every lifetime runs on the monotonic clock: setting the wall clock back or forward
//    neither keeps credentials longer nor drops them early.
//  - Memory is bounded: least recently used entries go first (never one with a call in
//    flight). The entries are split into shards by key, each with its own lock and LRU
//    order, so that threads asking for different principals do not wait on each other; the
//    bound and the LRU order hold per shard.
//
// Thread-safe. Callbacks run on whichever thread completes the inner call, or inline on a hit.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/string_map.h"
#include "issuer/issuer.h"

namespace vendo::issuer {

struct CredentialCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;         // requests that started an inner call
  std::uint64_t shared = 0;         // requests that waited for a call already in flight
  std::uint64_t issuer_errors = 0;  // inner calls that failed
  std::uint64_t served_stale = 0;   // requests answered from cache after an inner failure
  std::uint64_t failed_fast = 0;    // requests answered with a remembered failure
};

struct FailureCacheOptions {
  std::chrono::milliseconds retryable{1000};  // throttling, 5xx, timeouts, unreachable
  std::chrono::milliseconds refused{30000};   // AccessDenied and other refusals
};

class CachingIssuer final : public Issuer {
 public:
  CachingIssuer(Issuer& inner, const Clock& clock, Random& random, std::size_t max_entries,
                FailureCacheOptions failures = {});

  void Issue(IssueRequest request, IssueCallback done) override;
  std::string_view Kind() const override { return inner_.Kind(); }
  std::size_t MaxSessionNameLength() const override { return inner_.MaxSessionNameLength(); }
  bool BindsDevice() const override { return inner_.BindsDevice(); }
  [[nodiscard]] Status Ready() override { return inner_.Ready(); }

  CredentialCacheStats Stats() const;
  std::size_t SizeForTest();

  // The cache key: app, principal (username, else device), duration and the exact policy;
  // with `per_device` (the inner issuer BindsDevice) the device too.
  static std::string KeyOf(const IssueRequest& request, bool per_device);
  // How long before expiry credentials stop being reused.
  static std::chrono::seconds RefreshMargin(std::chrono::seconds lifetime);
  // True for failures that may pass by themselves (remembered for the short while).
  static bool Retryable(const Error& error);

 private:
  struct Entry {
    std::optional<Credentials> credentials;
    std::chrono::steady_clock::time_point fresh_until;  // reuse until then
    std::chrono::steady_clock::time_point valid_until;  // serve when the issuer fails
    std::optional<Error> failure;                       // the last failure, remembered
    std::chrono::steady_clock::time_point failed_until;
    bool in_flight = false;
    std::vector<IssueCallback> waiters;
    std::list<std::string>::iterator lru;
  };
  struct Shard {
    std::mutex mu;
    StringMap<Entry> entries;    // guarded by mu
    std::list<std::string> lru;  // front = most recently used; guarded by mu
    CredentialCacheStats stats;  // guarded by mu
  };

  static void AppendKey(std::string& out, const IssueRequest& request, bool per_device);
  Shard& ShardOf(std::string_view key);
  void Complete(Shard& shard, const std::string& key, Result<Credentials> result);
  void EvictLocked(Shard& shard);
  // How long to remember `error`, jitter included.
  std::chrono::steady_clock::duration FailureTtl(const Error& error);

  Issuer& inner_;
  const Clock& clock_;
  Random& random_;
  FailureCacheOptions failures_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::size_t max_per_shard_;
};

}  // namespace vendo::issuer
