// Test double: a Scheduler that runs its functions only when told to, moving a
// ManualClock to each due time in turn. No threads, no wall clock.
#pragma once

#include <functional>
#include <map>
#include <mutex>

#include "liveorigin/common/clock.h"
#include "liveorigin/core/scheduler.h"

namespace liveorigin::testing {

// Functions may schedule more; equal due times run in FIFO order. Thread-safe.
class ManualScheduler final : public core::Scheduler {
 public:
  explicit ManualScheduler(ManualClock& clock) : clock_(clock) {}

  void RunAfter(Millis delay, std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    tasks_.emplace(std::make_pair(clock_.Now() + delay, next_seq_++), std::move(fn));
  }

  // Runs every function due at or before `t`, in due order, then sets the clock to `t`.
  void AdvanceTo(TimePoint t) {
    for (;;) {
      std::function<void()> fn;
      {
        std::lock_guard lock(mu_);
        if (tasks_.empty() || tasks_.begin()->first.first > t) break;
        auto node = tasks_.extract(tasks_.begin());
        if (node.key().first > clock_.Now()) clock_.Set(node.key().first);
        fn = std::move(node.mapped());
      }
      fn();
    }
    if (t > clock_.Now()) clock_.Set(t);
  }
  void Advance(Millis d) { AdvanceTo(clock_.Now() + d); }

  size_t pending() const {
    std::lock_guard lock(mu_);
    return tasks_.size();
  }
  // Drops every pending function (and whatever it keeps alive).
  void Clear() {
    std::map<std::pair<TimePoint, uint64_t>, std::function<void()>> dropped;
    std::lock_guard lock(mu_);
    dropped.swap(tasks_);
  }

 private:
  ManualClock& clock_;
  mutable std::mutex mu_;
  std::map<std::pair<TimePoint, uint64_t>, std::function<void()>> tasks_;  // GUARDED_BY(mu_)
  uint64_t next_seq_ = 0;                                                  // GUARDED_BY(mu_)
};

}  // namespace liveorigin::testing
