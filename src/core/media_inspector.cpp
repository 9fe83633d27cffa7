#include "liveorigin/core/media_inspector.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "liveorigin/core/defects.h"

namespace liveorigin::core {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void AddDefect(storage::CandidateRecord* r, std::string_view token, const std::string& why) {
  if (std::find(r->origin_defects.begin(), r->origin_defects.end(), token) ==
      r->origin_defects.end()) {
    r->origin_defects.emplace_back(token);
  }
  if (!r->inspection_note.empty()) r->inspection_note += "; ";
  r->inspection_note += why;
}

const storage::TrackTiming* FindTrack(const storage::CandidateRecord& r, uint32_t id) {
  for (const auto& t : r.tracks) {
    if (t.track_id == id) return &t;
  }
  return nullptr;
}

// Position in seconds when the timescale is known, else raw ticks.
double ToUnits(uint64_t ticks, uint32_t timescale) {
  return timescale ? static_cast<double>(ticks) / timescale : static_cast<double>(ticks);
}

}  // namespace

media::InitSegmentInfo InspectInit(std::string_view body, storage::CandidateRecord* record) {
  media::InitParseResult parsed = media::ParseInitSegment(Bytes(body));
  record->inspected = true;
  if (parsed.error.status != media::ParseStatus::kOk || parsed.info.tracks.empty()) {
    AddDefect(record, defect::kCorrupt,
              parsed.error.status == media::ParseStatus::kOk ? "init segment has no track"
                                                             : parsed.error.message);
  }
  for (const auto& t : parsed.info.tracks) {
    storage::TrackTiming tt;
    tt.track_id = t.track_id;
    tt.timescale = t.timescale;
    record->tracks.push_back(tt);
  }
  return std::move(parsed.info);
}

void InspectSegment(std::string_view body, const SegmentContext& context,
                    storage::CandidateRecord* record) {
  const media::MediaParseResult parsed = media::ParseMediaSegment(Bytes(body), context.init);
  record->inspected = true;
  const auto& info = parsed.info;
  record->last_segment = info.last_segment;
  for (const auto& t : info.tracks) {
    storage::TrackTiming tt;
    tt.track_id = t.track_id;
    tt.base_decode_time = t.base_decode_time;
    tt.duration = t.duration;
    tt.sample_count = t.sample_count;
    tt.max_sample_duration = t.max_sample_duration;
    if (context.init) {
      if (const auto* it = context.init->FindTrack(t.track_id)) tt.timescale = it->timescale;
    }
    record->tracks.push_back(tt);
  }
  if (parsed.error.status == media::ParseStatus::kNeedMoreData) {
    AddDefect(record, defect::kCorrupt, "truncated: " + parsed.error.message);
    return;
  }
  if (parsed.error.status == media::ParseStatus::kMalformed) {
    AddDefect(record, defect::kCorrupt, parsed.error.message);
    return;
  }
  if (info.slate) AddDefect(record, defect::kSlate, "styp brand slat (slate)");
  // A segment must carry media: samples of a track the init segment declares
  // (or of any track while no init is known). Empty, nested or free-only
  // segments parse cleanly but play nothing.
  bool has_media = false;
  for (const auto& t : record->tracks) {
    if (t.sample_count == 0) continue;
    if (!context.init || context.init->FindTrack(t.track_id)) has_media = true;
  }
  if (!has_media) {
    AddDefect(record, defect::kCorrupt,
              context.init ? "no samples of the init segment's tracks" : "no media samples");
    return;
  }
  // A track that lasts nothing is a gap in the stream, whatever the others do.
  auto zero_duration = [&](uint32_t track_id) {
    char why[120];
    std::snprintf(why, sizeof why, "track %u has zero duration in this segment", track_id);
    AddDefect(record, defect::kShortDuration, why);
  };
  for (const auto& t : record->tracks) {
    if (t.sample_count == 0 || t.duration == 0) {
      zero_duration(t.track_id);
      return;
    }
  }
  if (context.init && !info.last_segment) {
    for (const auto& it : context.init->tracks) {
      const bool present = std::any_of(record->tracks.begin(), record->tracks.end(),
                                       [&](const auto& t) { return t.track_id == it.track_id; });
      if (!present) {
        zero_duration(it.track_id);
        return;
      }
    }
  }
  if (!context.init) {
    if (!record->inspection_note.empty()) record->inspection_note += "; ";
    record->inspection_note += "no init segment for this rendition yet: duration not checked";
    return;
  }
  if (info.last_segment) return;  // the last segment of a stream may be short
  const double d = std::chrono::duration<double>(context.segment_duration).count();
  for (const auto& t : record->tracks) {
    if (t.timescale == 0 || t.sample_count == 0) continue;
    const double duration = static_cast<double>(t.duration) / t.timescale;
    const double one_sample = static_cast<double>(t.max_sample_duration) / t.timescale;
    if (duration < d - one_sample - 1e-9) {
      char why[160];
      std::snprintf(why, sizeof why,
                    "track %u lasts %.3fs, shorter than %.3fs by more than one sample", t.track_id,
                    duration, d);
      AddDefect(record, defect::kShortDuration, why);
      break;
    }
  }
}

bool IsDiscontinuous(const storage::CandidateRecord& previous,
                     const storage::CandidateRecord& current, std::string* why) {
  for (const auto& cur : current.tracks) {
    if (cur.sample_count == 0) continue;
    const storage::TrackTiming* prev = FindTrack(previous, cur.track_id);
    if (!prev || prev->sample_count == 0) continue;
    if ((prev->timescale == 0) != (cur.timescale == 0)) continue;  // cannot compare
    const double expected = ToUnits(prev->base_decode_time + prev->duration, prev->timescale);
    const double actual = ToUnits(cur.base_decode_time, cur.timescale);
    const double tolerance = std::max(ToUnits(cur.max_sample_duration, cur.timescale),
                                      ToUnits(prev->max_sample_duration, prev->timescale));
    if (std::fabs(actual - expected) > tolerance + 1e-9) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "track %u starts at %.3f%s but segment %llu (%s) ends at %.3f",
                    cur.track_id, actual, cur.timescale ? "s" : " ticks",
                    static_cast<unsigned long long>(previous.id.number.value_or(0)),
                    previous.id.pipeline.c_str(), expected);
      *why = buf;
      return true;
    }
  }
  return false;
}

std::optional<double> TimelineOffsetSeconds(const storage::CandidateRecord& a,
                                            const storage::CandidateRecord& b,
                                            double* one_sample_seconds) {
  for (const auto& ta : a.tracks) {
    const storage::TrackTiming* tb = FindTrack(b, ta.track_id);
    if (!tb || ta.timescale == 0 || tb->timescale == 0 || ta.sample_count == 0) continue;
    if (one_sample_seconds) {
      *one_sample_seconds = std::max(ToUnits(ta.max_sample_duration, ta.timescale),
                                     ToUnits(tb->max_sample_duration, tb->timescale));
    }
    return ToUnits(ta.base_decode_time, ta.timescale) -
           ToUnits(tb->base_decode_time, tb->timescale);
  }
  return std::nullopt;
}

}  // namespace liveorigin::core
