#include "liveorigin/core/candidate_selector.h"

#include <algorithm>

#include "liveorigin/core/defects.h"

namespace liveorigin::core {

CandidateRank RankOf(const CandidateView& candidate, size_t priority) {
  CandidateRank rank;
  rank.priority = priority;
  rank.defect_count = candidate.defects.size();
  rank.defective = candidate.defects.empty() ? 0 : 1;
  for (const auto& d : candidate.defects) {
    const int s = DefectSeverity(d);
    rank.worst_severity = std::max(rank.worst_severity, s);
    rank.severity_sum += s;
  }
  return rank;
}

Selection SelectSegment(const SegmentSelectionInput& in) {
  Selection out;
  const auto& p = in.pipelines;

  if (in.forced && *in.forced < p.size() && p[*in.forced].candidate) {
    out.outcome = Selection::Outcome::kServe;
    out.pipeline = *in.forced;
    out.reason = "forced by an operator";
    return out;
  }

  if (in.sticky && *in.sticky < p.size() && p[*in.sticky].candidate) {
    out.outcome = Selection::Outcome::kServe;
    out.pipeline = *in.sticky;
    out.reason = "sticky: this clean candidate was served before";
    return out;
  }

  // Preferred grace: the most preferred healthy pipeline gets until
  // availability + grace to deliver a clean candidate.
  const auto preferred =
      std::find_if(p.begin(), p.end(), [](const auto& v) { return v.healthy && !v.disabled; });
  const TimePoint grace_end = in.availability_time + in.preferred_grace;
  if (preferred != p.end() && in.now < grace_end) {
    const size_t index = static_cast<size_t>(preferred - p.begin());
    if (preferred->candidate && preferred->candidate->defects.empty()) {
      out.outcome = Selection::Outcome::kServe;
      out.pipeline = index;
      out.reason = "clean candidate of the preferred healthy pipeline";
      return out;
    }
    out.outcome = Selection::Outcome::kWait;
    out.pipeline = index;
    out.wait_until = grace_end;
    out.reason = "waiting for the preferred pipeline until the grace period ends";
    return out;
  }

  std::optional<CandidateRank> best;
  bool only_disabled = false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (!p[i].candidate) continue;
    if (p[i].disabled) {
      only_disabled = true;
      continue;
    }
    const CandidateRank rank = RankOf(*p[i].candidate, i);
    if (!best || rank < *best) best = rank;
  }
  if (!best) {
    out.outcome = Selection::Outcome::kNone;
    out.reason = only_disabled ? "only disabled pipelines have delivered this segment"
                               : "no pipeline has delivered this segment";
    return out;
  }
  out.outcome = Selection::Outcome::kServe;
  out.pipeline = best->priority;
  if (best->defective == 0) {
    out.reason = best->priority == 0 ? "clean candidate of the first pipeline"
                                     : "best clean candidate (more preferred pipelines are "
                                       "missing, defective or stalled)";
  } else {
    out.reason = "every candidate is defective; serving the least bad one";
  }
  return out;
}

Selection SelectObject(const std::vector<PipelineView>& pipelines, std::optional<size_t> forced) {
  Selection out;
  if (forced && *forced < pipelines.size() && pipelines[*forced].candidate) {
    out.outcome = Selection::Outcome::kServe;
    out.pipeline = *forced;
    out.reason = "forced by an operator";
    return out;
  }
  bool only_disabled = false;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < pipelines.size(); ++i) {
      if (!pipelines[i].candidate) continue;
      if (pipelines[i].disabled) {
        only_disabled = true;
        continue;
      }
      if (pass == 0 && !pipelines[i].healthy) continue;
      out.outcome = Selection::Outcome::kServe;
      out.pipeline = i;
      out.reason = pass == 0 ? "most preferred healthy pipeline that has the object"
                             : "no healthy pipeline has the object; most preferred that has it";
      return out;
    }
  }
  out.reason = only_disabled ? "only disabled pipelines have delivered this object"
                             : "no pipeline has delivered this object";
  return out;
}

}  // namespace liveorigin::core
