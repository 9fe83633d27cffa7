// Init segments (ftyp, moov) and the lookup helpers of iso_bmff.h.
// Media segments are in media_segment.cpp.
#include "liveorigin/media/iso_bmff.h"

#include <unordered_map>

#include "box_reader.h"
#include "boxes.h"

namespace liveorigin::media {
namespace {

HandlerType ToHandlerType(FourCC handler) {
  switch (handler) {
    case MakeFourCC("vide"):
      return HandlerType::kVideo;
    case MakeFourCC("soun"):
      return HandlerType::kAudio;
    case MakeFourCC("text"):
    case MakeFourCC("subt"):
    case MakeFourCC("sbtl"):
      return HandlerType::kText;
    default:
      return HandlerType::kUnknown;
  }
}

// moov/trak/mdia: mdhd timescale and hdlr handler.
ParseError ParseMedia(std::span<const uint8_t> data, const BoxHeader& mdia, int depth,
                      TrackInfo* track) {
  return ForEachChild(data, mdia, depth + 1, [&](const BoxHeader& box) {
    if (box.type == MakeFourCC("mdhd")) {
      MediaHeaderBox mdhd;
      ParseError e = ParseMediaHeader(Payload(data, box), &mdhd);
      track->timescale = mdhd.timescale;
      return e;
    }
    if (box.type == MakeFourCC("hdlr")) {
      HandlerBox hdlr;
      ParseError e = ParseHandler(Payload(data, box), &hdlr);
      track->handler = ToHandlerType(hdlr.handler_type);
      return e;
    }
    return Ok();
  });
}

ParseError ParseTrack(std::span<const uint8_t> data, const BoxHeader& trak, int depth,
                      TrackInfo* track) {
  bool has_tkhd = false;
  ParseError e = ForEachChild(data, trak, depth + 1, [&](const BoxHeader& box) {
    if (box.type == MakeFourCC("tkhd")) {
      has_tkhd = true;
      TrackHeaderBox tkhd;
      ParseError tkhd_error = ParseTrackHeader(Payload(data, box), &tkhd);
      track->track_id = tkhd.track_id;
      return tkhd_error;
    }
    if (box.type == MakeFourCC("mdia")) return ParseMedia(data, box, depth + 1, track);
    return Ok();
  });
  if (IsOk(e) && !has_tkhd) {
    e = Malformed("'trak' at offset " + std::to_string(trak.offset) + " has no 'tkhd'");
  }
  return e;
}

ParseError ParseMovieExtends(std::span<const uint8_t> data, const BoxHeader& mvex, int depth,
                             std::vector<TrackExtendsBox>* trexes) {
  return ForEachChild(data, mvex, depth + 1, [&](const BoxHeader& box) {
    if (box.type != MakeFourCC("trex")) return Ok();
    TrackExtendsBox trex;
    ParseError e = ParseTrackExtends(Payload(data, box), &trex);
    if (IsOk(e)) trexes->push_back(trex);
    return e;
  });
}

ParseError ParseMovie(std::span<const uint8_t> data, const BoxHeader& moov, InitSegmentInfo* info) {
  constexpr int kDepth = 1;
  std::vector<TrackExtendsBox> trexes;
  ParseError e = ForEachChild(data, moov, kDepth, [&](const BoxHeader& box) {
    if (box.type == MakeFourCC("trak")) {
      info->tracks.emplace_back();
      return ParseTrack(data, box, kDepth, &info->tracks.back());
    }
    if (box.type == MakeFourCC("mvex")) return ParseMovieExtends(data, box, kDepth, &trexes);
    return Ok();
  });
  // mvex usually follows the traks but may precede them: apply it at the end.
  std::unordered_map<uint32_t, TrackInfo*> by_id;
  for (TrackInfo& track : info->tracks) by_id.emplace(track.track_id, &track);
  for (const TrackExtendsBox& trex : trexes) {
    auto it = by_id.find(trex.track_id);
    if (it == by_id.end()) continue;  // trex for a track this moov does not have
    it->second->default_sample_duration = trex.default_sample_duration;
    it->second->default_sample_size = trex.default_sample_size;
    it->second->default_sample_flags = trex.default_sample_flags;
  }
  return e;
}

}  // namespace

const TrackInfo* InitSegmentInfo::FindTrack(uint32_t track_id) const {
  for (const TrackInfo& track : tracks) {
    if (track.track_id == track_id) return &track;
  }
  return nullptr;
}

const TrackFragmentSummary* MediaSegmentInfo::FindTrack(uint32_t track_id) const {
  for (const TrackFragmentSummary& track : tracks) {
    if (track.track_id == track_id) return &track;
  }
  return nullptr;
}

InitParseResult ParseInitSegment(std::span<const uint8_t> data) {
  InitParseResult result;
  InitSegmentInfo& info = result.info;
  bool has_moov = false;
  bool has_ftyp = false;
  BoxIterator top(data);
  BoxHeader box;
  while (top.Next(&box) && !box.truncated) {
    ParseError e;
    if (box.type == MakeFourCC("ftyp") && !has_ftyp) {
      has_ftyp = true;
      FileTypeBox ftyp;
      e = ParseFileType(Payload(data, box), &ftyp);
      info.major_brand = FourCCToString(ftyp.major_brand);
      for (FourCC brand : ftyp.compatible_brands) {
        info.compatible_brands.push_back(FourCCToString(brand));
      }
    } else if (box.type == MakeFourCC("moov")) {
      if (has_moov) e = Malformed("second 'moov' at offset " + std::to_string(box.offset));
      has_moov = true;
      if (IsOk(e)) e = ParseMovie(data, box, &info);
    }
    if (!IsOk(e)) {
      result.error = std::move(e);
      return result;
    }
  }
  if (!IsOk(top.error())) {
    result.error = top.error();
  } else if (!has_moov) {
    result.error = Malformed("no 'moov' box");
  }
  return result;
}

}  // namespace liveorigin::media
