// BodyCache: a byte-bounded LRU of immutable object bodies with request
// collapsing — concurrent misses for one key share a single load (SPEC §5.4, §7).
//
// Thread-safe. Bodies are shared, never copied per request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "liveorigin/common/status.h"
#include "liveorigin/core/http_message.h"

namespace liveorigin::core {

class BodyCache {
 public:
  explicit BodyCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Cached body, or the result of `load` (run by exactly one of the concurrent
  // callers for `key`; the others wait for it). Successful loads are cached.
  Result<Body> GetOrLoad(const std::string& key, const std::function<Result<Body>()>& load);

  // Inserts (or refreshes) a body, e.g. right after ingest.
  void Put(const std::string& key, Body body);
  void Erase(const std::string& key);

  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }
  uint64_t collapsed() const { return collapsed_.load(); }
  uint64_t bytes() const;
  uint64_t capacity() const { return capacity_; }

 private:
  struct Entry {
    Body body;
    std::list<std::string>::iterator lru;
  };
  void PutLocked(const std::string& key, Body body);

  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  std::list<std::string> lru_;                      // front = most recent; GUARDED_BY(mu_)
  uint64_t bytes_ = 0;                              // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::shared_future<Result<Body>>> loading_;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> hits_{0}, misses_{0}, collapsed_{0};
};

}  // namespace liveorigin::core
