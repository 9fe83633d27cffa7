#include "liveorigin/core/log_limiter.h"

namespace liveorigin::core {

namespace {
constexpr size_t kMaxKeys = 4096;  // keys come from request data: bound the map
}

bool LogLimiter::Allow(std::string_view key, uint64_t* suppressed,
                       std::chrono::steady_clock::time_point now) {
  MutexLock lock(mu_);
  if (buckets_.size() >= kMaxKeys && buckets_.find(std::string(key)) == buckets_.end()) {
    // Too many distinct keys: drop the stale ones rather than grow without bound.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.window_start > window_ ? buckets_.erase(it) : std::next(it);
    }
    if (buckets_.size() >= kMaxKeys) {
      *suppressed = 0;
      return false;
    }
  }
  Bucket& b = buckets_[std::string(key)];
  if (now - b.window_start > window_) {
    b.window_start = now;
    b.used = 0;
  }
  if (b.used >= burst_) {
    ++b.dropped;
    return false;
  }
  ++b.used;
  *suppressed = b.dropped;
  b.dropped = 0;
  return true;
}

LogLimiter& LogLimiter::Shared() {
  static LogLimiter limiter;
  return limiter;
}

}  // namespace liveorigin::core
