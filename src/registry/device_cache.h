#pragma once
// What the admission path needs to know of each device and CA, kept in memory. Entries are
// evicted by the store's change feed (registry_changes), so a revocation made anywhere — this
// process, the CLI, another node — is seen by the next admission. Sharded to keep readers
// from queuing behind each other.

#include <array>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "store/registry_records.h"

namespace castellan::registry {

struct cached_device {
  std::string id;
  std::string ca_id;
  std::string client_id;
  std::string effective_client_id;
  std::string common_name;
  store::device_status status = store::device_status::revoked;
  sys_time not_before{};
  sys_time not_after{};
};

struct cached_ca {
  std::string id;
  bool active = false;
  bool auto_registration = false;
  bool require_approval = false;
};

cached_device to_cached(const store::device_record& d);
cached_ca to_cached(const store::ca_record& c);

template <typename Value>
class sharded_cache {
 public:
  explicit sharded_cache(std::size_t capacity) : per_shard_(capacity / k_shards + 1) {}

  std::optional<Value> find(const std::string& key) const {
    const auto& s = shard(key);
    std::shared_lock lock(s.mutex);
    auto it = s.map.find(key);
    if (it == s.map.end()) return std::nullopt;
    return it->second;
  }

  void put(const std::string& key, Value value) {
    auto& s = shard(key);
    std::unique_lock lock(s.mutex);
    if (s.map.size() >= per_shard_) s.map.clear();  // crude but bounded: a full shard starts over
    s.map.insert_or_assign(key, std::move(value));
  }

  void evict(const std::string& key) {
    auto& s = shard(key);
    std::unique_lock lock(s.mutex);
    s.map.erase(key);
  }

  void clear() {
    for (auto& s : shards_) {
      std::unique_lock lock(s.mutex);
      s.map.clear();
    }
  }

 private:
  static constexpr std::size_t k_shards = 64;
  struct shard_t {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, Value> map;
  };
  shard_t& shard(const std::string& key) { return shards_[std::hash<std::string>{}(key) % k_shards]; }
  const shard_t& shard(const std::string& key) const { return shards_[std::hash<std::string>{}(key) % k_shards]; }

  std::size_t per_shard_;
  std::array<shard_t, k_shards> shards_;
};

}  // namespace castellan::registry
