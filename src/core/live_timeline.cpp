#include "liveorigin/core/live_timeline.h"

#include <algorithm>

namespace liveorigin::core {

LiveTimeline::LiveTimeline(const config::EventConfig& event)
    : ast_(std::chrono::time_point_cast<TimePoint::duration>(event.availability_start_time)),
      start_(event.start_number),
      d_(std::max<int64_t>(1, event.segment_duration.count())),
      dvr_segments_(std::max<uint64_t>(1, event.dvr_window.count() / d_.count())) {}

TimePoint LiveTimeline::AvailabilityTime(uint64_t number) const {
  const int64_t index = static_cast<int64_t>(number) - static_cast<int64_t>(start_);
  return ast_ + d_ * (index + 1);
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
