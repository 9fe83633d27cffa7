#include "liveorigin/core/follow_selector.h"

#include <algorithm>

namespace liveorigin::core {

Selection SelectFollow(const FollowInput& in) {
  Selection out;
  const auto& p = in.pipelines;
  if (in.chosen && *in.chosen < p.size() && p[*in.chosen].candidate) {
    out.outcome = Selection::Outcome::kServe;
    out.pipeline = *in.chosen;
    out.reason = "the upload this segment already follows";
    return out;
  }
  const auto preferred =
      std::find_if(p.begin(), p.end(), [](const auto& v) { return v.healthy && !v.disabled; });
  const TimePoint grace_end = in.segment_start + in.preferred_grace;
  if (preferred != p.end()) {
    const size_t index = static_cast<size_t>(preferred - p.begin());
    if (preferred->candidate && preferred->candidate->defects.empty()) {
      out.outcome = Selection::Outcome::kServe;
      out.pipeline = index;
      out.reason = "upload of the preferred healthy pipeline";
      return out;
    }
    if (in.now < grace_end) {
      const bool another = std::any_of(
          p.begin(), p.end(), [](const auto& v) { return v.candidate.has_value() && !v.disabled; });
      if (!another) return out;  // nothing to wait for: kNone
      out.outcome = Selection::Outcome::kWait;
      out.pipeline = index;
      out.wait_until = grace_end;
      out.reason = "waiting for the preferred pipeline's upload until the grace period ends";
      return out;
    }
  }
  std::optional<CandidateRank> best;
  for (size_t i = 0; i < p.size(); ++i) {
    if (!p[i].candidate || p[i].disabled) continue;
    const CandidateRank rank = RankOf(*p[i].candidate, i);
    if (!best || rank < *best) {
      best = rank;
      out.pipeline = i;
    }
  }
  if (!best) return out;
  out.outcome = Selection::Outcome::kServe;
  out.reason = best->defective ? "best upload in progress (defective)" : "best upload in progress";
  return out;
}

}  // namespace liveorigin::core
