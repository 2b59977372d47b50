// CachingIssuer: reuses credentials per (app, principal, rendered policy) until a refresh
// margin before they expire, so a device asking again gets the same credentials (freshly
// encrypted) instead of a new STS call. The 2012 TVM made one STS call per /gettoken; its
// spec recommends exactly this cache.
//
//  - Margin: 15 minutes, or a fifth of the credentials' lifetime if that is shorter.
//  - Concurrent requests for the same key share one call to the inner issuer.
//  - When the inner issuer fails, a cached credential that has not expired yet is served.
//  - Memory is bounded: least recently used entries go first (never one with a call in
//    flight).
//
// Thread-safe. Callbacks run on whichever thread completes the inner call, or inline on a hit.
#pragma once

#include <atomic>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
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

  void Complete(const std::string& key, Result<Credentials> result);
  void EvictLocked();

  Issuer& inner_;
  const Clock& clock_;
  std::size_t max_entries_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  std::list<std::string> lru_;                      // front = most recently used; guarded by mu_
  std::atomic<std::uint64_t> hits_{0}, misses_{0}, shared_{0}, errors_{0}, stale_{0};
};

}  // namespace vendo::issuer
