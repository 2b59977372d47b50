#include "vending/principal_cache.h"

#include <algorithm>
#include <mutex>

namespace vendo::server {

PrincipalCache::PrincipalCache(std::size_t max_entries)
    : max_per_shard_(std::max<std::size_t>(1, max_entries / kShards)) {}

PrincipalCache::Shard& PrincipalCache::ShardFor(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

std::optional<RenderedGrant> PrincipalCache::Find(std::string_view key) {
  Shard& shard = ShardFor(key);
  std::shared_lock lock(shard.mu);
  if (auto it = shard.entries.find(key); it != shard.entries.end()) {
    return it->second;
  }
  return std::nullopt;
}

void PrincipalCache::Put(std::string_view key, const RenderedGrant& grant) {
  Shard& shard = ShardFor(key);
  std::unique_lock lock(shard.mu);
  if (shard.entries.size() >= max_per_shard_) {
    shard.entries.clear();
  }
  shard.entries.insert_or_assign(std::string(key), grant);
}

std::size_t PrincipalCache::Size() {
  std::size_t n = 0;
  for (Shard& shard : shards_) {
    std::shared_lock lock(shard.mu);
    n += shard.entries.size();
  }
  return n;
}

}  // namespace vendo::server
