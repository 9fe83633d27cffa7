// Turns the ISO-BMFF parse of a candidate into the facts the selector ranks
// (SPEC §4.3): track timings and the origin's own defect tags.
#pragma once

#include <string_view>

#include "liveorigin/common/clock.h"
#include "liveorigin/media/iso_bmff.h"
#include "liveorigin/storage/candidate_record.h"

namespace liveorigin::core {

// Parses an init segment; fills record->tracks (id, timescale), marks
// `corrupt` when unparseable. Returns the parsed info (tracks may be empty).
media::InitSegmentInfo InspectInit(std::string_view body, storage::CandidateRecord* record);

struct SegmentContext {
  Millis segment_duration{0};
  const media::InitSegmentInfo* init = nullptr;  // this rendition's init; null if none yet
};

// Parses a media segment; fills tracks, last_segment, and tags corrupt,
// slate and short-duration. Continuity is judged separately (it needs the
// previous segment as viewers have it).
void InspectSegment(std::string_view body, const SegmentContext& context,
                    storage::CandidateRecord* record);

// True when `current` does not continue `previous` within one sample on some
// track they share. Appends an explanation to *why when it returns true.
bool IsDiscontinuous(const storage::CandidateRecord& previous,
                     const storage::CandidateRecord& current, std::string* why);

// Seconds by which `a` starts after `b` on their first shared track; nullopt
// when they share no timed track.
std::optional<double> TimelineOffsetSeconds(const storage::CandidateRecord& a,
                                            const storage::CandidateRecord& b,
                                            double* one_sample_seconds);

}  // namespace liveorigin::core
