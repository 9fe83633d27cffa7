#include "liveorigin/core/body_cache.h"

namespace liveorigin::core {

Result<Body> BodyCache::GetOrLoad(const std::string& key,
                                  const std::function<Result<Body>()>& load) {
  std::promise<Result<Body>> promise;
  {
    std::unique_lock lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      ++hits_;
      return it->second.body;
    }
    auto pending = loading_.find(key);
    if (pending != loading_.end()) {
      auto future = pending->second;
      lock.unlock();
      ++collapsed_;
      return future.get();
    }
    ++misses_;
    loading_.emplace(key, promise.get_future().share());
  }
  Result<Body> result = Status::IOError("load did not run");
  try {
    result = load();
  } catch (const std::exception& e) {
    result = Status::IOError(std::string("load failed: ") + e.what());
  }
  {
    std::lock_guard lock(mu_);
    loading_.erase(key);
    if (result.ok()) PutLocked(key, *result);
  }
  promise.set_value(result);
  return result;
}

void BodyCache::Put(const std::string& key, Body body) {
  std::lock_guard lock(mu_);
  PutLocked(key, std::move(body));
}

void BodyCache::PutLocked(const std::string& key, Body body) {
  if (!body || body->size() > capacity_ / 4) return;  // one object may not flush the cache
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    bytes_ -= it->second.body->size();
    it->second.body = std::move(body);
    bytes_ += it->second.body->size();
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  } else {
    lru_.push_front(key);
    bytes_ += body->size();
    entries_.emplace(key, Entry{std::move(body), lru_.begin()});
  }
  while (bytes_ > capacity_ && !lru_.empty()) {
    auto victim = entries_.find(lru_.back());
    bytes_ -= victim->second.body->size();
    entries_.erase(victim);
    lru_.pop_back();
  }
}

void BodyCache::Erase(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  bytes_ -= it->second.body->size();
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

uint64_t BodyCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace liveorigin::core
