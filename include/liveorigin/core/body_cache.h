// BodyCache: a byte-bounded LRU of immutable object bodies with request
// collapsing — concurrent misses for one key share a single load (SPEC §5.4,
// §7), and nobody blocks waiting for it: waiters are called back.
//
// Thread-safe. Bodies are shared, never copied per request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "liveorigin/common/status.h"
#include "liveorigin/common/thread_annotations.h"
#include "liveorigin/core/http_message.h"

namespace liveorigin::core {

class BodyCache {
 public:
  using Loaded = std::function<void(Result<Body>)>;
  // Starts the one load of a key; must call `done` exactly once, on any thread.
  using Loader = std::function<void(Loaded done)>;

  explicit BodyCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The cached body, counted as a hit; nullopt on a miss (not counted).
  std::optional<Body> Get(const std::string& key);

  // The cached body at once (`on_loaded` is not called), or nullopt: then
  // `on_loaded` runs when the key's load finishes. Only the first of the
  // concurrent misses calls `start`; the others join its load. Successful
  // loads are cached. `on_loaded` runs without locks held, on the thread that
  // finished the load.
  std::optional<Body> GetOrLoad(const std::string& key, const Loader& start, Loaded on_loaded);

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
  void PutLocked(const std::string& key, Body body) REQUIRES(mu_);
  void Finish(const std::string& key, Result<Body> result);

  const uint64_t capacity_;
  mutable Mutex mu_;
  std::unordered_map<std::string, Entry> entries_ GUARDED_BY(mu_);
  std::list<std::string> lru_ GUARDED_BY(mu_);  // front = most recent
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, std::vector<Loaded>> loading_ GUARDED_BY(mu_);
  std::atomic<uint64_t> hits_{0}, misses_{0}, collapsed_{0};
};

}  // namespace liveorigin::core
