#include "issuer/caching_issuer.h"

#include <algorithm>
#include <charconv>

namespace vendo::issuer {

using std::chrono::seconds;

namespace {

constexpr std::size_t kMaxShards = 16;

}  // namespace

CachingIssuer::CachingIssuer(Issuer& inner, const Clock& clock, Random& random,
                             std::size_t max_entries, FailureCacheOptions failures)
    : inner_(inner), clock_(clock), random_(random), failures_(failures) {
  max_entries = std::max<std::size_t>(1, max_entries);
  std::size_t shards = std::min(kMaxShards, max_entries);
  max_per_shard_ = max_entries / shards;  // never more than max_entries in all
  for (std::size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

void CachingIssuer::AppendKey(std::string& key, const IssueRequest& request, bool per_device) {
  key.append(request.app);
  key.push_back('\0');  // app names and principals hold no NUL: fields cannot run together
  key.append(request.username ? "u:" : "d:");
  key.append(request.username ? *request.username : request.device_id);
  key.push_back('\0');
  if (per_device && request.username) {
    key.append(request.device_id);  // tagged with the device: not shared between devices
    key.push_back('\0');
  }
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, request.duration.count()).ptr;
  key.append(digits, end).push_back('\0');
  key.append(request.role_arn).push_back('\0');  // another role: other credentials
  // The policy's SHA-256 when the caller has it (GrantFor does, at no cost per request): a
  // short key to hash and compare. Otherwise the policy itself. Tagged, so the two kinds of
  // key never meet.
  if (!request.policy_sha256.empty()) {
    key.append("h:").append(request.policy_sha256);
  } else {
    key.append("p:").append(request.policy);
  }
  for (const auto& [tag, value] : request.session_tags) {  // other tags: other credentials
    key.push_back('\0');
    key.append(tag).push_back('=');
    key.append(value);
  }
}

std::string CachingIssuer::KeyOf(const IssueRequest& request, bool per_device) {
  std::string key;
  AppendKey(key, request, per_device);
  return key;
}

seconds CachingIssuer::RefreshMargin(seconds lifetime) {
  return std::min<seconds>(std::chrono::minutes(15), lifetime / 5);
}

bool CachingIssuer::Retryable(const Error& error) {
  switch (error.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kInternal:
    case ErrorCode::kWouldBlock:
      return true;
    default:
      return false;  // AccessDenied, a policy STS rejects: asking again changes nothing
  }
}

std::chrono::steady_clock::duration CachingIssuer::FailureTtl(const Error& error) {
  std::chrono::milliseconds base = Retryable(error) ? failures_.retryable : failures_.refused;
  if (base.count() <= 0) {
    return {};
  }
  std::uint32_t r = 0;
  random_.Fill(std::span(reinterpret_cast<std::uint8_t*>(&r), sizeof r));
  // [base, 1.5 base): principals that failed together spread out when they come back.
  return base + std::chrono::milliseconds(r % (base.count() / 2 + 1));
}

CachingIssuer::Shard& CachingIssuer::ShardOf(std::string_view key) {
  return *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

void CachingIssuer::Issue(IssueRequest request, IssueCallback done) {
  // A hit builds its key in this thread's buffer and allocates nothing for it.
  thread_local std::string key_buffer;
  key_buffer.clear();
  AppendKey(key_buffer, request, inner_.BindsDevice());
  std::string_view key = key_buffer;
  Shard& shard = ShardOf(key);
  auto now = clock_.Steady();
  std::string owned_key;  // for the inner call, on a miss
  {
    std::unique_lock lock(shard.mu);
    auto it = shard.entries.find(key);
    if (it == shard.entries.end()) {
      it = shard.entries.try_emplace(std::string(key)).first;
      shard.lru.push_front(it->first);
      it->second.lru = shard.lru.begin();
    } else {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
    }
    Entry& e = it->second;
    if (e.credentials && now < e.fresh_until) {
      ++shard.stats.hits;
      Credentials cached = *e.credentials;
      lock.unlock();
      done(std::move(cached));
      return;
    }
    if (e.failure && now < e.failed_until && !e.in_flight) {
      ++shard.stats.failed_fast;
      Error failure = *e.failure;
      lock.unlock();
      done(std::unexpected(std::move(failure)));
      return;
    }
    e.waiters.push_back(std::move(done));
    if (e.in_flight) {
      ++shard.stats.shared;
      return;  // the call in flight answers us too
    }
    e.in_flight = true;
    ++shard.stats.misses;
    owned_key = it->first;
    EvictLocked(shard);
  }
  // Outside the lock: the inner issuer may answer inline (the dev issuer does).
  inner_.Issue(std::move(request),
               [this, &shard, key = std::move(owned_key)](Result<Credentials> result) {
                 Complete(shard, key, std::move(result));
               });
}

void CachingIssuer::Complete(Shard& shard, const std::string& key, Result<Credentials> result) {
  auto wall = clock_.Now();
  auto now = clock_.Steady();
  std::vector<IssueCallback> waiters;
  std::optional<Result<Credentials>> answer;
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(key);  // entries in flight are never evicted
    Entry& e = it->second;
    waiters = std::move(e.waiters);
    e.waiters.clear();
    e.in_flight = false;
    if (result) {
      // The expiration is the wall clock's; from here on it is kept as time left.
      auto lifetime = std::chrono::duration_cast<seconds>(result->expiration - wall);
      e.credentials = *result;
      e.valid_until = now + lifetime;
      e.fresh_until = e.valid_until - RefreshMargin(lifetime);
      e.failure.reset();
      answer = std::move(result);
    } else {
      ++shard.stats.issuer_errors;
      if (e.credentials && now < e.valid_until) {
        shard.stats.served_stale += waiters.size();
        answer = *e.credentials;  // still valid: better than an error
      } else {
        e.credentials.reset();
        e.failure = result.error();
        e.failed_until = now + FailureTtl(result.error());
        answer = std::move(result);
      }
    }
    EvictLocked(shard);  // entries kept over the bound while in flight may go now
  }
  for (auto& waiter : waiters) {
    waiter(*answer);
  }
}

void CachingIssuer::EvictLocked(Shard& shard) {
  auto victim = shard.lru.end();
  while (shard.entries.size() > max_per_shard_ && victim != shard.lru.begin()) {
    --victim;
    auto it = shard.entries.find(*victim);
    if (it->second.in_flight) {
      continue;  // someone is waiting on it
    }
    victim = shard.lru.erase(victim);
    shard.entries.erase(it);
  }
}

CredentialCacheStats CachingIssuer::Stats() const {
  CredentialCacheStats total;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    total.hits += shard->stats.hits;
    total.misses += shard->stats.misses;
    total.shared += shard->stats.shared;
    total.issuer_errors += shard->stats.issuer_errors;
    total.served_stale += shard->stats.served_stale;
    total.failed_fast += shard->stats.failed_fast;
  }
  return total;
}

std::size_t CachingIssuer::SizeForTest() {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    n += shard->entries.size();
  }
  return n;
}

}  // namespace vendo::issuer
