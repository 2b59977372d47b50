#include "store/caching_store.h"

namespace vendo::store {

template <class Record>
std::optional<Record> CachingStore::Cache<Record>::Get(std::string_view key,
                                                       std::chrono::steady_clock::time_point now) {
  Shard& shard = ShardFor(key);
  {
    std::shared_lock lock(shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) {
      return std::nullopt;
    }
    if (it->second.expires > now) {
      return it->second.record;
    }
  }
  std::unique_lock lock(shard.mu);  // expired: drop it (if no one refreshed it meanwhile)
  auto it = shard.map.find(key);
  if (it != shard.map.end() && it->second.expires <= now) {
    shard.map.erase(it);
  }
  return std::nullopt;
}

template <class Record>
void CachingStore::Cache<Record>::Put(std::string_view key, const Record& record,
                                      std::chrono::steady_clock::time_point expires,
                                      std::size_t max_entries,
                                      const std::atomic<std::uint64_t>& generation,
                                      std::uint64_t seen) {
  Shard& shard = ShardFor(key);
  std::unique_lock lock(shard.mu);
  if (generation.load() != seen) {
    return;
  }
  if (shard.map.size() >= std::max<std::size_t>(1, max_entries / kShards)) {
    shard.map.erase(shard.map.begin());  // bounded memory; an evicted record is just re-read
  }
  shard.map.insert_or_assign(std::string(key), Entry{record, expires});
}

template <class Record>
void CachingStore::Cache<Record>::Erase(std::string_view key) {
  Shard& shard = ShardFor(key);
  std::unique_lock lock(shard.mu);
  if (auto it = shard.map.find(key); it != shard.map.end()) {
    shard.map.erase(it);
  }
}

template <class Record>
void CachingStore::Cache<Record>::Clear() {
  for (Shard& shard : shards_) {
    std::unique_lock lock(shard.mu);
    shard.map.clear();
  }
}

template <class Record>
std::size_t CachingStore::Cache<Record>::Size() {
  std::size_t n = 0;
  for (Shard& shard : shards_) {
    std::shared_lock lock(shard.mu);
    n += shard.map.size();
  }
  return n;
}

template class CachingStore::Cache<DeviceRecord>;
template class CachingStore::Cache<UserRecord>;

std::string_view CachingStore::Key(std::string_view app, std::string_view id) {
  thread_local std::string key;  // a hit then allocates nothing for its key
  key.clear();
  key.append(app).push_back('\0');  // app names cannot contain NUL: keys cannot collide
  key.append(id);
  return key;
}

Status CachingStore::CreateDevice(std::string_view app, std::string_view uid,
                                  const SecretString& key) {
  return inner_.CreateDevice(app, uid, key);  // absent records are never cached
}

template <class Record, class Load>
Result<Record> CachingStore::ReadThrough(Cache<Record>& cache, std::string_view key, Load&& load) {
  auto now = clock_.Steady();
  if (auto hit = cache.Get(key, now)) {
    return std::move(*hit);
  }
  std::string owned(key);  // `key` may sit in a per-thread buffer that `load` could reuse
  std::uint64_t seen = generation_.load();
  Result<Record> found = load();
  if (found && options_.ttl.count() > 0) {
    cache.Put(owned, *found, now + options_.ttl, options_.max_entries, generation_, seen);
  }
  return found;
}

Result<DeviceRecord> CachingStore::FindDevice(std::string_view app, std::string_view uid) {
  return ReadThrough(devices_, Key(app, uid), [&] { return inner_.FindDevice(app, uid); });
}

Result<DeviceRecord> CachingStore::CachedDevice(std::string_view app, std::string_view uid) {
  if (auto hit = devices_.Get(Key(app, uid), clock_.Steady())) {
    return std::move(*hit);
  }
  return Fail(ErrorCode::kWouldBlock, "device not in memory");
}

Result<UserRecord> CachingStore::CachedUserById(std::string_view app, std::string_view user_id) {
  if (auto hit = users_by_id_.Get(Key(app, user_id), clock_.Steady())) {
    return std::move(*hit);
  }
  return Fail(ErrorCode::kWouldBlock, "user not in memory");
}

Status CachingStore::BindDevice(std::string_view app, std::string_view uid,
                                std::string_view user_id, const SecretString& key) {
  auto st = inner_.BindDevice(app, uid, user_id, key);
  generation_.fetch_add(1);  // after the write, before the erase (see Cache::Put)
  devices_.Erase(Key(app, uid));
  return st;
}

Status CachingStore::SetDeviceKey(std::string_view app, std::string_view uid,
                                  const SecretString& key) {
  auto st = inner_.SetDeviceKey(app, uid, key);
  generation_.fetch_add(1);
  devices_.Erase(Key(app, uid));
  return st;
}

Status CachingStore::RevokeDevice(std::string_view app, std::string_view uid) {
  auto st = inner_.RevokeDevice(app, uid);
  generation_.fetch_add(1);
  devices_.Erase(Key(app, uid));
  return st;
}

Status CachingStore::DeleteDevice(std::string_view app, std::string_view uid) {
  auto st = inner_.DeleteDevice(app, uid);
  generation_.fetch_add(1);
  devices_.Erase(Key(app, uid));
  return st;
}

Status CachingStore::CreateUser(std::string_view app, std::string_view username,
                                std::string_view user_id, const SecretString& password_hash) {
  return inner_.CreateUser(app, username, user_id, password_hash);
}

Result<UserRecord> CachingStore::FindUser(std::string_view app, std::string_view username) {
  // Cached like the other records: a federated identity is looked up by name on every vend.
  return ReadThrough(users_by_name_, Key(app, username),
                     [&] { return inner_.FindUser(app, username); });
}

Result<UserRecord> CachingStore::CachedUser(std::string_view app, std::string_view username) {
  if (auto hit = users_by_name_.Get(Key(app, username), clock_.Steady())) {
    return std::move(*hit);
  }
  return Fail(ErrorCode::kWouldBlock, "user not in memory");
}

Result<UserRecord> CachingStore::FindUserById(std::string_view app, std::string_view user_id) {
  return ReadThrough(users_by_id_, Key(app, user_id),
                     [&] { return inner_.FindUserById(app, user_id); });
}

Status CachingStore::SetUserEnabled(std::string_view app, std::string_view username, bool enabled) {
  auto st = inner_.SetUserEnabled(app, username, enabled);
  generation_.fetch_add(1);
  users_by_id_.Clear();  // keyed by id, changed by name; user changes are rare
  users_by_name_.Erase(Key(app, username));
  return st;
}

Status CachingStore::DeleteUser(std::string_view app, std::string_view username) {
  auto st = inner_.DeleteUser(app, username);
  generation_.fetch_add(1);
  users_by_id_.Clear();
  users_by_name_.Erase(Key(app, username));
  return st;
}

}  // namespace vendo::store
