#include "liveorigin/core/live_timeline.h"

#include <algorithm>

namespace liveorigin::core {

LiveTimeline::LiveTimeline(const config::EventConfig& event)
    : ast_(std::chrono::time_point_cast<TimePoint::duration>(event.availability_start_time)),
      start_(event.start_number),
      d_(std::max<int64_t>(1, event.segment_duration.count())),
      dvr_segments_(std::max<uint64_t>(1, event.dvr_window.count() / d_.count())) {}

TimePoint LiveTimeline::AvailabilityTime(uint64_t number) const {
  // Numbers come from request paths and may be absurd: saturate instead of
  // overflowing (time_point counts nanoseconds in 64 bits, about ±292 years).
  if (number < start_) {
    const uint64_t before = start_ - number;
    const auto headroom = std::chrono::duration_cast<Millis>(ast_ - TimePoint::min()).count();
    if (before - 1 >= static_cast<uint64_t>(headroom / d_.count())) return TimePoint::min();
    return ast_ - d_ * static_cast<int64_t>(before - 1);
  }
  const uint64_t k = number - start_ + 1;
  const auto headroom = std::chrono::duration_cast<Millis>(TimePoint::max() - ast_).count();
  if (k > static_cast<uint64_t>(headroom / d_.count())) return TimePoint::max();
  return ast_ + d_ * static_cast<int64_t>(k);
}

std::optional<uint64_t> LiveTimeline::LiveEdge(TimePoint now) const {
  if (now < ast_ + d_) return std::nullopt;
  const int64_t elapsed = std::chrono::duration_cast<Millis>(now - ast_).count();
  // number of whole segments elapsed; segment start_+k-1 is available when k·d elapsed
  const int64_t k = elapsed / d_.count();
  return start_ + static_cast<uint64_t>(k) - 1;
}

uint64_t LiveTimeline::FirstInWindow(TimePoint now) const {
  const auto edge = LiveEdge(now);
  if (!edge || *edge < start_ + dvr_segments_) return start_;
  return *edge - dvr_segments_;
}

}  // namespace liveorigin::core
