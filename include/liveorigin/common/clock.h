// Clock: the only source of "now" for request logic, so tests can drive time.
//
// Implementations must be thread-safe. Times are wall-clock (system_clock)
// because segment availability is anchored to UTC (availability_start_time).
#pragma once

#include <atomic>
#include <chrono>

namespace liveorigin {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The process's wall clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override {
    return TimePoint(TimePoint::duration(now_.load(std::memory_order_acquire)));
  }
  void Set(TimePoint t) { now_.store(t.time_since_epoch().count(), std::memory_order_release); }
  void Advance(TimePoint::duration d) { now_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<TimePoint::rep> now_;
};

// Milliseconds since the Unix epoch.
inline int64_t ToUnixMillis(TimePoint t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}
inline TimePoint FromUnixMillis(int64_t ms) { return TimePoint(Millis(ms)); }

}  // namespace liveorigin
