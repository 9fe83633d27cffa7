// OverloadState: the figures that decide load shedding (SPEC §5.4) — requests
// (GETs and uploads) in flight, held GETs, and how slow storage has been lately. Kept apart from
// metrics: metrics report it, never drive it.
//
// Thread-safe (atomics); cheap enough to touch on every request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "liveorigin/common/clock.h"

namespace liveorigin::core {

class OverloadState {
 public:
  // REQUIRES: for storage shedding, max_storage_latency > 0 (0 = never shed on latency).
  OverloadState(uint32_t max_inflight, uint32_t max_held, Millis max_storage_latency)
      : max_inflight_(max_inflight),
        max_held_(max_held),
        max_storage_latency_(max_storage_latency) {}

  void RequestStarted() { inflight_.fetch_add(1, std::memory_order_relaxed); }
  void RequestFinished() { inflight_.fetch_sub(1, std::memory_order_relaxed); }
  uint64_t inflight() const { return inflight_.load(std::memory_order_relaxed); }

  // Reserves a place for a held GET; false when max_held is reached.
  bool TryHold() {
    uint64_t n = held_.load(std::memory_order_relaxed);
    do {
      if (n >= max_held_) return false;
    } while (!held_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    return true;
  }
  void Released() { held_.fetch_sub(1, std::memory_order_relaxed); }
  uint64_t held() const { return held_.load(std::memory_order_relaxed); }

  // One storage operation's latency; kept as an exponentially weighted
  // average over roughly the last 16 operations.
  void NoteStorageLatency(std::chrono::steady_clock::duration d) {
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    int64_t avg = storage_latency_us_.load(std::memory_order_relaxed);
    storage_latency_us_.store(avg + (us - avg) / 16, std::memory_order_relaxed);
  }
  double storage_latency_seconds() const {
    return static_cast<double>(storage_latency_us_.load(std::memory_order_relaxed)) / 1e6;
  }

  // True when GETs far behind the live edge should be shed. `extra`: requests
  // to count besides those in flight (one that has just finished).
  bool Overloaded(uint64_t extra = 0) const {
    if (max_inflight_ && inflight() + extra > max_inflight_) return true;
    return max_storage_latency_.count() > 0 &&
           storage_latency_us_.load(std::memory_order_relaxed) >
               std::chrono::duration_cast<std::chrono::microseconds>(max_storage_latency_).count();
  }

 private:
  const uint32_t max_inflight_;
  const uint32_t max_held_;
  const Millis max_storage_latency_;
  std::atomic<uint64_t> inflight_{0};
  std::atomic<uint64_t> held_{0};
  std::atomic<int64_t> storage_latency_us_{0};
};

}  // namespace liveorigin::core
