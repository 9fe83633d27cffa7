// The time model of one event (SPEC §2): constant segment duration d, segment n
// covers [AST + (n - start)·d, +d) and becomes available at AST + (n - start + 1)·d.
// Immutable value; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "liveorigin/common/clock.h"
#include "liveorigin/config/config.h"

namespace liveorigin::core {

class LiveTimeline {
 public:
  explicit LiveTimeline(const config::EventConfig& event);

  TimePoint AvailabilityTime(uint64_t number) const;
  // Highest number whose availability time is <= now; nullopt before the first.
  std::optional<uint64_t> LiveEdge(TimePoint now) const;
  // Number of segments the DVR window spans (at least 1).
  uint64_t DvrSegments() const { return dvr_segments_; }
  // Lowest number still inside the DVR window at `now` (start_number at the least).
  uint64_t FirstInWindow(TimePoint now) const;
  Millis segment_duration() const { return d_; }
  uint64_t start_number() const { return start_; }

 private:
  TimePoint ast_;
  uint64_t start_;
  Millis d_;
  uint64_t dvr_segments_;
};

}  // namespace liveorigin::core
