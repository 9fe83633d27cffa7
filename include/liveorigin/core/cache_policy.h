// The Cache-Control a CDN is told for each answer (SPEC §5.3). Pure
// functions of the event configuration, the answer and the clock.
#pragma once

#include <cstdint>
#include <string>

#include "liveorigin/common/clock.h"
#include "liveorigin/config/config.h"
#include "liveorigin/storage/candidate_record.h"

namespace liveorigin::core {

// Whole seconds of `d`, rounded up, at least `floor`.
int64_t CeilSeconds(TimePoint::duration d, int64_t floor = 1);

// "public, max-age=N".
std::string MaxAge(int64_t seconds);

// A served candidate: clean segments and init segments until they leave the
// DVR window, defective segments one segment duration, other objects
// manifest_max_age. `durable` false (its sticky record could not be written)
// gets the short lifetime of a defective segment: a restart may change it.
std::string CacheControlFor(const config::EventConfig& config,
                            const storage::CandidateRecord& record, TimePoint now,
                            bool durable = true);

// 404 for a segment whose availability time is still ahead.
std::string CacheControlNotYetAvailable(TimePoint available, TimePoint now);

// 410 for a segment that left the DVR window.
std::string CacheControlGone(const config::EventConfig& config);

}  // namespace liveorigin::core
