// PrincipalCache: what an app's templates render to for one principal (device or user): the
// session name, the session policy and the policy's SHA-256 for the audit log.
//
// They are pure functions of the app's configuration and the principal's variables, yet
// rendering, checking and hashing them took about 0.7 us of every /gettoken; a device that
// asks again gets them from here. The key is every variable the templates may use, so an
// entry can only answer for the principal it was made for. Failures are not kept. Bounded:
// a full shard starts over. Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "common/string_map.h"
#include "vendo/result.h"

namespace vendo::server {

struct RenderedGrant {
  std::string session_name;
  std::string policy;
  std::string policy_sha256;                                        // hex
  std::vector<std::pair<std::string, std::string>> session_tags{};  // federated devices
  std::string role_arn{};  // federated: a claim rule's role (empty: the issuer's own)
};

class PrincipalCache {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 10000;

  explicit PrincipalCache(std::size_t max_entries = kDefaultMaxEntries);

  // The entry for `key`, or `make()`'s result, kept when it succeeded. Outside the lock:
  // two threads may both make an entry, with equal results.
  template <typename Make>
  [[nodiscard]] Result<RenderedGrant> GetOrMake(std::string_view key, Make&& make) {
    if (auto hit = Find(key)) {
      return std::move(*hit);
    }
    std::string owned(key);  // `key` may sit in a buffer that `make` reuses
    Result<RenderedGrant> made = make();
    if (made) {
      Put(owned, *made);
    }
    return made;
  }
  std::optional<RenderedGrant> Find(std::string_view key);
  void Put(std::string_view key, const RenderedGrant& grant);

  std::size_t Size();

 private:
  static constexpr std::size_t kShards = 8;
  struct Shard {
    std::shared_mutex mu;
    StringMap<RenderedGrant> entries;
  };
  Shard& ShardFor(std::string_view key);
  std::array<Shard, kShards> shards_;
  std::size_t max_per_shard_;
};

}  // namespace vendo::server
