// SelectFollow: which upload in progress the GETs of a segment follow when no
// complete candidate is servable (SPEC §9). A pure function, like
// SelectSegment: the same uploads, health, controls and clock give the same
// answer on every origin.
#pragma once

#include <optional>
#include <vector>

#include "liveorigin/common/clock.h"
#include "liveorigin/core/candidate_selector.h"

namespace liveorigin::core {

struct FollowInput {
  // One per pipeline in priority order. `candidate` describes the pipeline's
  // upload in progress once it can be followed (its first moof has arrived,
  // nothing proved it corrupt), with the defects known from what arrived so
  // far (X-Live-Defects, slate, timing-discontinuity against the timeline).
  std::vector<PipelineView> pipelines;
  // The upload this segment's GETs already follow, while it is still going.
  std::optional<size_t> chosen;
  TimePoint now;
  // When the segment's media starts (its availability time minus d): the
  // moment a streaming packager opens its upload.
  TimePoint segment_start;
  Millis preferred_grace{0};
};

// kServe: follow `pipeline`'s upload. kWait: nothing may be followed before
// `wait_until` (the preferred pipeline's grace). kNone: no upload to follow.
//
// Rules: a choice already made stands; the most preferred healthy pipeline
// (not disabled) is followed as soon as its upload is followable and clean;
// after segment_start + preferred_grace (or when no pipeline is healthy), the
// best followable upload ranked as in SPEC §5.1.
Selection SelectFollow(const FollowInput& input);

}  // namespace liveorigin::core
