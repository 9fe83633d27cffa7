#include "liveorigin/core/cache_policy.h"

#include <algorithm>
#include <cmath>

#include "liveorigin/core/live_timeline.h"

namespace liveorigin::core {

using storage::ObjectKind;

int64_t CeilSeconds(TimePoint::duration d, int64_t floor) {
  const double s = std::chrono::duration<double>(d).count();
  return std::max<int64_t>(floor, static_cast<int64_t>(std::ceil(s - 1e-9)));
}

std::string MaxAge(int64_t seconds) { return "public, max-age=" + std::to_string(seconds); }

std::string CacheControlFor(const config::EventConfig& cfg, const storage::CandidateRecord& record,
                            TimePoint now, bool durable) {
  switch (record.kind) {
    case ObjectKind::kSegment: {
      if (!durable || !record.AllDefects().empty()) {
        return MaxAge(CeilSeconds(cfg.segment_duration));
      }
      // Segment n answers 410 once the live edge passes n + dvr_window/d, i.e. at
      // availability(n) + dvr_window + d.
      const TimePoint leaves = LiveTimeline(cfg).AvailabilityTime(*record.id.number) +
                               cfg.dvr_window + cfg.segment_duration;
      return MaxAge(CeilSeconds(leaves - now));
    }
    case ObjectKind::kInit:
      return MaxAge(CeilSeconds(cfg.dvr_window));
    case ObjectKind::kOther:
      return MaxAge(CeilSeconds(cfg.manifest_max_age, 0));
  }
  return MaxAge(1);
}

std::string CacheControlNotYetAvailable(TimePoint available, TimePoint now) {
  return MaxAge(CeilSeconds(available - now));
}

std::string CacheControlGone(const config::EventConfig& cfg) {
  return MaxAge(CeilSeconds(cfg.dvr_window));
}

}  // namespace liveorigin::core
