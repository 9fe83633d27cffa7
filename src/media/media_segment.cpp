// Media segments: styp, sidx, prft, emsg and any number of moof+mdat pairs.
#include <algorithm>
#include <unordered_map>

#include "box_reader.h"
#include "boxes.h"
#include "liveorigin/media/iso_bmff.h"
#include "mdat_coverage.h"

namespace liveorigin::media {
namespace {

// Where a run of sample data starts. Most positions are absolute offsets in
// the segment; a trun without data_offset under an implicit base starts at the
// payload of the next mdat, which is not known until that mdat is read.
struct DataPos {
  enum class Anchor { kAbsolute, kNextMdat, kNowhere };
  Anchor anchor = Anchor::kAbsolute;
  uint64_t value = 0;  // absolute offset, or offset into the next mdat payload

  // This position moved by `delta`; kNowhere when it leaves [0, 2^64).
  DataPos Plus(int64_t delta) const {
    DataPos p = *this;
    if (anchor == Anchor::kNowhere) return p;
    if (delta >= 0) {
      const uint64_t d = static_cast<uint64_t>(delta);
      if (value > UINT64_MAX - d) p.anchor = Anchor::kNowhere;
      p.value = value + d;
    } else {
      const uint64_t d = static_cast<uint64_t>(-(delta + 1)) + 1;
      if (value < d) p.anchor = Anchor::kNowhere;
      p.value = value - d;
    }
    return p;
  }
  DataPos PlusBytes(uint64_t bytes) const {
    DataPos p = *this;
    if (anchor != Anchor::kNowhere && value > UINT64_MAX - bytes) p.anchor = Anchor::kNowhere;
    p.value = value + bytes;
    return p;
  }
};

struct SampleRun {  // the bytes one trun describes
  DataPos start;
  uint64_t length = 0;
};

class MediaSegmentParser {
 public:
  MediaSegmentParser(std::span<const uint8_t> data, const InitSegmentInfo* init,
                     MediaSegmentInfo* info)
      : data_(data), info_(info) {
    if (init != nullptr) {
      for (const TrackInfo& track : init->tracks) init_tracks_.emplace(track.track_id, &track);
    }
  }

  ParseError Parse();

 private:
  ParseError ParseTopLevel(const BoxHeader& box);
  ParseError ParseMovieFragment(const BoxHeader& moof);
  ParseError ParseTrackFragment(const BoxHeader& traf, const BoxHeader& moof, int depth,
                                bool first_traf, DataPos* previous_traf_end);
  void AddMdat(const BoxHeader& mdat);
  TrackFragmentSummary& Track(uint32_t track_id);
  const TrackInfo* InitTrack(uint32_t track_id) const;
  void Account();

  std::span<const uint8_t> data_;
  MediaSegmentInfo* info_;
  std::unordered_map<uint32_t, const TrackInfo*> init_tracks_;
  std::unordered_map<uint32_t, size_t> track_index_;  // into info_->tracks
  bool has_styp_ = false;
  std::vector<SampleRun> runs_;       // grows with trun boxes present
  std::vector<size_t> waiting_runs_;  // runs_ anchored at the next mdat
  MdatCoverage coverage_;
};

TrackFragmentSummary& MediaSegmentParser::Track(uint32_t track_id) {
  auto [it, inserted] = track_index_.emplace(track_id, info_->tracks.size());
  if (inserted) {
    info_->tracks.emplace_back();
    info_->tracks.back().track_id = track_id;
  }
  return info_->tracks[it->second];
}

const TrackInfo* MediaSegmentParser::InitTrack(uint32_t track_id) const {
  auto it = init_tracks_.find(track_id);
  return it == init_tracks_.end() ? nullptr : it->second;
}

void MediaSegmentParser::AddMdat(const BoxHeader& mdat) {
  const uint64_t begin = mdat.payload_offset();
  const uint64_t present_end = std::min<uint64_t>(mdat.end(), data_.size());
  coverage_.Add(begin, std::max(begin, present_end));
  for (size_t i : waiting_runs_) {
    runs_[i].start = DataPos{DataPos::Anchor::kAbsolute, begin}.PlusBytes(runs_[i].start.value);
  }
  waiting_runs_.clear();
}

ParseError MediaSegmentParser::ParseTrackFragment(const BoxHeader& traf, const BoxHeader& moof,
                                                  int depth, bool first_traf,
                                                  DataPos* previous_traf_end) {
  using Tfhd = TrackFragmentHeaderBox;
  std::optional<TrackFragmentHeaderBox> tfhd;
  DataPos base;
  bool base_is_implicit_moof = false;
  DataPos next_run;  // where a trun without data_offset starts
  bool first_run = true;
  TrackFragmentSummary* track = nullptr;
  const TrackInfo* init_track = nullptr;

  ParseError e = ForEachChild(data_, traf, depth + 1, [&](const BoxHeader& box) -> ParseError {
    if (box.type == MakeFourCC("tfhd")) {
      if (tfhd) return Malformed("'traf' with two 'tfhd'");
      tfhd.emplace();
      ParseError tfhd_error = ParseTrackFragmentHeader(Payload(data_, box), &*tfhd);
      if (!IsOk(tfhd_error)) return tfhd_error;
      track = &Track(tfhd->track_id);
      init_track = InitTrack(tfhd->track_id);
      if (tfhd->base_data_offset) {
        base = DataPos{DataPos::Anchor::kAbsolute, *tfhd->base_data_offset};
      } else if ((tfhd->flags & Tfhd::kDefaultBaseIsMoof) || first_traf) {
        base = DataPos{DataPos::Anchor::kAbsolute, moof.offset};
        base_is_implicit_moof = true;
      } else {
        base = *previous_traf_end;  // ISO 14496-12: data follows the previous traf's
      }
      *previous_traf_end = base;
      return Ok();
    }
    if (box.type != MakeFourCC("tfdt") && box.type != MakeFourCC("trun")) return Ok();
    if (!tfhd) return Malformed("'" + FourCCToString(box.type) + "' before 'tfhd' in 'traf'");

    if (box.type == MakeFourCC("tfdt")) {
      TrackFragmentDecodeTimeBox tfdt;
      ParseError tfdt_error = ParseTrackFragmentDecodeTime(Payload(data_, box), &tfdt);
      if (IsOk(tfdt_error) && !track->has_base_decode_time) {
        track->has_base_decode_time = true;
        track->base_decode_time = tfdt.base_media_decode_time;
      }
      return tfdt_error;
    }

    // trun: durations and sizes fall back tfhd default -> trex default -> 0.
    const uint32_t default_duration = tfhd->default_sample_duration.value_or(
        init_track != nullptr ? init_track->default_sample_duration : 0);
    const uint32_t default_size = tfhd->default_sample_size.value_or(
        init_track != nullptr ? init_track->default_sample_size : 0);
    TrackRunBox trun;
    ParseError trun_error =
        ParseTrackRun(Payload(data_, box), default_duration, default_size, &trun);
    if (!IsOk(trun_error)) return trun_error;

    SampleRun run;
    run.length = trun.bytes;
    if (trun.data_offset) {
      run.start = base.Plus(*trun.data_offset);
    } else if (first_run && base_is_implicit_moof) {
      // The data of a moof-relative run without offset can only be the next mdat's.
      run.start = DataPos{DataPos::Anchor::kNextMdat, 0};
    } else {
      run.start = first_run ? base : next_run;
    }
    first_run = false;
    next_run = run.start.PlusBytes(run.length);
    *previous_traf_end = next_run;
    if (run.start.anchor == DataPos::Anchor::kNextMdat) waiting_runs_.push_back(runs_.size());
    runs_.push_back(run);

    track->sample_count += trun.sample_count;
    track->duration = SaturatingAdd(track->duration, trun.duration);
    track->bytes_described = SaturatingAdd(track->bytes_described, trun.bytes);
    if (trun.max_sample_duration > track->max_sample_duration) {
      track->max_sample_duration = trun.max_sample_duration;
    }
    info_->mdat_bytes_described = SaturatingAdd(info_->mdat_bytes_described, trun.bytes);
    return Ok();
  });
  if (IsOk(e) && !tfhd) {
    e = Malformed("'traf' at offset " + std::to_string(traf.offset) + " has no 'tfhd'");
  }
  return e;
}

ParseError MediaSegmentParser::ParseMovieFragment(const BoxHeader& moof) {
  constexpr int kDepth = 1;
  ++info_->fragment_count;
  bool has_mfhd = false;
  bool first_traf = true;
  DataPos previous_traf_end{DataPos::Anchor::kAbsolute, moof.offset};
  return ForEachChild(data_, moof, kDepth, [&](const BoxHeader& box) {
    if (box.type == MakeFourCC("mfhd") && !has_mfhd) {
      has_mfhd = true;
      MovieFragmentHeaderBox mfhd;
      ParseError e = ParseMovieFragmentHeader(Payload(data_, box), &mfhd);
      if (info_->fragment_count == 1) info_->first_sequence_number = mfhd.sequence_number;
      return e;
    }
    if (box.type == MakeFourCC("traf")) {
      ParseError e = ParseTrackFragment(box, moof, kDepth, first_traf, &previous_traf_end);
      first_traf = false;
      return e;
    }
    return Ok();
  });
}

ParseError MediaSegmentParser::ParseTopLevel(const BoxHeader& box) {
  switch (box.type) {
    case MakeFourCC("styp"): {
      FileTypeBox styp;
      ParseError e = ParseFileType(Payload(data_, box), &styp);
      if (!IsOk(e) || has_styp_) return e;  // brands come from the first styp
      has_styp_ = true;
      info_->brands.push_back(FourCCToString(styp.major_brand));
      for (FourCC brand : styp.compatible_brands) info_->brands.push_back(FourCCToString(brand));
      for (const std::string& brand : info_->brands) {
        if (brand == "slat") info_->slate = true;
        if (brand == "lmsg") info_->last_segment = true;
      }
      return e;
    }
    case MakeFourCC("sidx"):
      info_->has_sidx = true;
      return Ok();
    case MakeFourCC("prft"): {
      ProducerReferenceTime prft;
      ParseError e = ParseProducerReferenceTime(Payload(data_, box), &prft);
      if (IsOk(e) && !info_->prft) info_->prft = prft;
      return e;
    }
    case MakeFourCC("moof"):
      return ParseMovieFragment(box);
    case MakeFourCC("mdat"):
      AddMdat(box);
      return Ok();
    default:  // emsg, free, skip and anything unknown
      return Ok();
  }
}

void MediaSegmentParser::Account() {
  uint64_t present = 0;
  for (const SampleRun& run : runs_) {
    if (run.start.anchor != DataPos::Anchor::kAbsolute) continue;  // points at no mdat
    present = SaturatingAdd(present, coverage_.PresentIn(run.start.value, run.length));
  }
  info_->mdat_bytes_present = present;
}

ParseError MediaSegmentParser::Parse() {
  BoxIterator top(data_);
  BoxHeader box;
  ParseError e;
  while (IsOk(e) && top.Next(&box)) {
    if (box.truncated) {
      if (box.type == MakeFourCC("mdat")) AddMdat(box);  // count what has arrived
      break;
    }
    e = ParseTopLevel(box);
  }
  Account();
  if (!IsOk(e)) return e;
  if (!IsOk(top.error())) return top.error();
  if (info_->fragment_count == 0) return Malformed("no 'moof' box");
  if (info_->mdat_bytes_present < info_->mdat_bytes_described) {
    return Malformed("trun describes " + std::to_string(info_->mdat_bytes_described) +
                     " bytes but mdat holds " + std::to_string(info_->mdat_bytes_present));
  }
  return Ok();
}

}  // namespace

MediaParseResult ParseMediaSegment(std::span<const uint8_t> data, const InitSegmentInfo* init) {
  MediaParseResult result;
  result.error = MediaSegmentParser(data, init, &result.info).Parse();
  return result;
}

}  // namespace liveorigin::media
