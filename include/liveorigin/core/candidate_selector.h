// CandidateSelector: the deterministic choice of which candidate a GET serves
// (SPEC §5.1, with the operator controls of §12). A pure function of its
// inputs: the same candidates, pipeline health, operator controls, sticky
// choice and clock give the same answer on every origin.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "liveorigin/common/clock.h"

namespace liveorigin::core {

// What the selector needs to know of one candidate.
struct CandidateView {
  std::vector<std::string> defects;  // empty = clean
};

// One pipeline of the event, in priority order (index 0 = most preferred).
struct PipelineView {
  bool healthy = false;                    // PUT a segment within 2·d of now
  std::optional<CandidateView> candidate;  // this pipeline's candidate, if any
  // Taken out of selection by an operator: never chosen for a new answer and
  // never waited for; a sticky choice of it stays.
  bool disabled = false;
};

struct SegmentSelectionInput {
  std::vector<PipelineView> pipelines;
  std::optional<size_t> sticky;  // pipeline index whose clean candidate was served before
  // Pipeline index an operator pinned this object to; wins over everything
  // else while that pipeline has a candidate.
  std::optional<size_t> forced;
  TimePoint now;
  TimePoint availability_time;
  Millis preferred_grace{0};
};

struct Selection {
  enum class Outcome {
    kServe,  // serve `pipeline`'s candidate
    kWait,   // nothing may be served before `wait_until` (preferred grace)
    kNone,   // no candidate at all
  };
  Outcome outcome = Outcome::kNone;
  size_t pipeline = 0;
  TimePoint wait_until{};
  std::string reason;  // one sentence for logs and the admin view
};

// Ranking key of a candidate: lower is better.
struct CandidateRank {
  int defective = 0;       // 0 clean, 1 defective
  int worst_severity = 0;  // highest DefectSeverity among its defects
  size_t defect_count = 0;
  int severity_sum = 0;
  size_t priority = 0;  // pipeline index
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const CandidateRank&) const = default;
};

CandidateRank RankOf(const CandidateView& candidate, size_t priority);

// Segments: forced choice, then sticky choice, then preferred grace, then best
// rank among pipelines that are not disabled.
Selection SelectSegment(const SegmentSelectionInput& input);

// Non-segment objects (init, manifests, captions): the forced pipeline if it
// has the object; else, among pipelines that are not disabled, the most
// preferred healthy one that has it, else the most preferred one that has it.
Selection SelectObject(const std::vector<PipelineView>& pipelines,
                       std::optional<size_t> forced = std::nullopt);

}  // namespace liveorigin::core
