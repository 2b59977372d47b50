// CachingIssuer: reuses credentials per (app, principal, rendered policy) until a refresh
// margin before they expire, so a device asking again gets the same credentials (freshly
// encrypted) instead of a new STS call. The 2012 TVM made one STS call per /gettoken; its
// spec recommends exactly this cache.
//
//  - Margin: 15 minutes, or a fifth of the credentials' lifetime if that is shorter.
//  - Concurrent requests for the same key share one call to the inner issuer.
//  - When the inner issuer fails, a cached credential that has not expired yet is served.
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
#include "common/string_map.h"
#include "issuer/issuer.h"

namespace vendo::issuer {

struct CredentialCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;         // requests that started an inner call
  std::uint64_t shared = 0;         // requests that waited for a call already in flight
  std::uint64_t issuer_errors = 0;  // inner calls that failed
  std::uint64_t served_stale = 0;   // requests answered from cache after an inner failure
};

class CachingIssuer final : public Issuer {
 public:
  CachingIssuer(Issuer& inner, const Clock& clock, std::size_t max_entries);

  void Issue(IssueRequest request, IssueCallback done) override;
  std::string_view Kind() const override { return inner_.Kind(); }
  std::size_t MaxSessionNameLength() const override { return inner_.MaxSessionNameLength(); }
  bool BindsDevice() const override { return inner_.BindsDevice(); }
  Status Ready() override { return inner_.Ready(); }

  CredentialCacheStats Stats() const;
  std::size_t SizeForTest();

  // The cache key: app, principal (username, else device), duration and the exact policy;
  // with `per_device` (the inner issuer BindsDevice) the device too.
  static std::string KeyOf(const IssueRequest& request, bool per_device);
  // How long before expiry credentials stop being reused.
  static std::chrono::seconds RefreshMargin(std::chrono::seconds lifetime);

 private:
  struct Entry {
    std::optional<Credentials> credentials;
    std::chrono::system_clock::time_point fresh_until;  // reuse until then
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

  Issuer& inner_;
  const Clock& clock_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::size_t max_per_shard_;
};

}  // namespace vendo::issuer
