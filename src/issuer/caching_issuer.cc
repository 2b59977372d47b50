#include "issuer/caching_issuer.h"

namespace vendo::issuer {

using std::chrono::seconds;

CachingIssuer::CachingIssuer(Issuer& inner, const Clock& clock, std::size_t max_entries)
    : inner_(inner), clock_(clock), max_entries_(std::max<std::size_t>(1, max_entries)) {}

std::string CachingIssuer::KeyOf(const IssueRequest& request, bool per_device) {
  std::string key = request.app;
  key.push_back('\0');  // app names and principals hold no NUL: fields cannot run together
  key.append(request.username ? "u:" : "d:");
  key.append(request.username ? *request.username : request.device_id);
  key.push_back('\0');
  if (per_device && request.username) {
    key.append(request.device_id);  // tagged with the device: not shared between devices
    key.push_back('\0');
  }
  key.append(std::to_string(request.duration.count()));
  key.push_back('\0');
  // The policy's SHA-256 when the caller has it (GrantFor does, at no cost per request): a
  // short key to hash and compare. Otherwise the policy itself. Tagged, so the two kinds of
  // key never meet.
  if (!request.policy_sha256.empty()) {
    key.append("h:").append(request.policy_sha256);
  } else {
    key.append("p:").append(request.policy);
  }
  return key;
}

seconds CachingIssuer::RefreshMargin(seconds lifetime) {
  return std::min<seconds>(std::chrono::minutes(15), lifetime / 5);
}

void CachingIssuer::Issue(IssueRequest request, IssueCallback done) {
  std::string key = KeyOf(request, inner_.BindsDevice());
  auto now = clock_.Now();
  {
    std::unique_lock lock(mu_);
    auto [it, inserted] = entries_.try_emplace(key);
    Entry& e = it->second;
    if (inserted) {
      lru_.push_front(key);
      e.lru = lru_.begin();
    } else {
      lru_.splice(lru_.begin(), lru_, e.lru);
    }
    if (e.credentials && now < e.fresh_until) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      Credentials cached = *e.credentials;
      lock.unlock();
      done(std::move(cached));
      return;
    }
    e.waiters.push_back(std::move(done));
    if (e.in_flight) {
      shared_.fetch_add(1, std::memory_order_relaxed);
      return;  // the call in flight answers us too
    }
    e.in_flight = true;
    misses_.fetch_add(1, std::memory_order_relaxed);
    EvictLocked();
  }
  // Outside the lock: the inner issuer may answer inline (the dev issuer does).
  inner_.Issue(std::move(request), [this, key = std::move(key)](Result<Credentials> result) {
    Complete(key, std::move(result));
  });
}

void CachingIssuer::Complete(const std::string& key, Result<Credentials> result) {
  auto now = clock_.Now();
  std::vector<IssueCallback> waiters;
  std::optional<Result<Credentials>> answer;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);  // entries in flight are never evicted
    Entry& e = it->second;
    waiters = std::move(e.waiters);
    e.waiters.clear();
    e.in_flight = false;
    if (result) {
      auto lifetime = std::chrono::duration_cast<seconds>(result->expiration - now);
      e.credentials = *result;
      e.fresh_until = result->expiration - RefreshMargin(lifetime);
      answer = std::move(result);
    } else {
      errors_.fetch_add(1, std::memory_order_relaxed);
      if (e.credentials && now < e.credentials->expiration) {
        stale_.fetch_add(waiters.size(), std::memory_order_relaxed);
        answer = *e.credentials;  // still valid: better than an error
      } else {
        answer = std::move(result);
        lru_.erase(e.lru);
        entries_.erase(it);
      }
    }
  }
  for (auto& waiter : waiters) {
    waiter(*answer);
  }
}

void CachingIssuer::EvictLocked() {
  auto victim = lru_.end();
  while (entries_.size() > max_entries_ && victim != lru_.begin()) {
    --victim;
    auto it = entries_.find(*victim);
    if (it->second.in_flight) {
      continue;  // someone is waiting on it
    }
    victim = lru_.erase(victim);
    entries_.erase(it);
  }
}

CredentialCacheStats CachingIssuer::Stats() const {
  return {hits_.load(), misses_.load(), shared_.load(), errors_.load(), stale_.load()};
}

std::size_t CachingIssuer::SizeForTest() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace vendo::issuer
