#include "liveorigin/core/body_cache.h"

namespace liveorigin::core {

std::optional<Body> BodyCache::Get(const std::string& key) {
  MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  ++hits_;
  return it->second.body;
}

std::optional<Body> BodyCache::GetOrLoad(const std::string& key, const Loader& start,
                                         Loaded on_loaded) {
  {
    MutexLock lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      ++hits_;
      return it->second.body;
    }
    auto pending = loading_.find(key);
    if (pending != loading_.end()) {
      ++collapsed_;
      pending->second.push_back(std::move(on_loaded));
      return std::nullopt;
    }
    ++misses_;
    loading_[key].push_back(std::move(on_loaded));
  }
  start([this, key](Result<Body> result) { Finish(key, std::move(result)); });
  return std::nullopt;
}

void BodyCache::Finish(const std::string& key, Result<Body> result) {
  std::vector<Loaded> waiters;
  {
    MutexLock lock(mu_);
    auto it = loading_.find(key);
    if (it != loading_.end()) {
      waiters = std::move(it->second);
      loading_.erase(it);
    }
    if (result.ok()) PutLocked(key, *result);
  }
  for (auto& w : waiters) w(result);
}

void BodyCache::Put(const std::string& key, Body body) {
  MutexLock lock(mu_);
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
  MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  bytes_ -= it->second.body->size();
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

uint64_t BodyCache::bytes() const {
  MutexLock lock(mu_);
  return bytes_;
}

}  // namespace liveorigin::core
