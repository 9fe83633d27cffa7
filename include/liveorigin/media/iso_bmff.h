// A light, defensive ISO-BMFF / CMAF inspector for init and media segments.
//
// Depends on the C++ standard library only. Every size and count read from the
// input is checked against the bytes actually present before it is used; no
// allocation is sized by the input (vectors grow only with boxes that exist).
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace liveorigin::media {

enum class ParseStatus {
  kOk,            // the whole input was understood
  kNeedMoreData,  // the input is a valid prefix but ends inside a box
  kMalformed,     // the input can never become valid (bad sizes, bad structure)
};
// An input that ends exactly at a box boundary is judged as it is: a media
// segment cut after its moof is kMalformed (its mdat is missing), not
// kNeedMoreData. A caller holding a complete upload must treat kNeedMoreData as
// corrupt (truncated).

struct ParseError {
  ParseStatus status = ParseStatus::kOk;
  std::string message;  // empty when kOk; names the box and the problem otherwise
};

enum class HandlerType { kUnknown, kVideo, kAudio, kText };

struct TrackInfo {
  uint32_t track_id = 0;
  HandlerType handler = HandlerType::kUnknown;
  uint32_t timescale = 0;  // mdhd
  // mvex/trex defaults (0 when absent)
  uint32_t default_sample_duration = 0;
  uint32_t default_sample_size = 0;
  uint32_t default_sample_flags = 0;
};

struct InitSegmentInfo {
  std::string major_brand;  // ftyp; empty when no ftyp
  std::vector<std::string> compatible_brands;
  std::vector<TrackInfo> tracks;  // in moov order

  const TrackInfo* FindTrack(uint32_t track_id) const;
};

struct InitParseResult {
  ParseError error;
  InitSegmentInfo info;  // filled as far as parsing got
};

// Per-track totals over every moof of a media segment.
struct TrackFragmentSummary {
  uint32_t track_id = 0;
  bool has_base_decode_time = false;
  uint64_t base_decode_time = 0;     // tfdt of the first traf for this track
  uint64_t sample_count = 0;         // summed over all trun boxes
  uint64_t duration = 0;             // summed sample durations, in the track timescale
  uint32_t max_sample_duration = 0;  // longest single sample (for "within one sample" checks)
  uint64_t bytes_described = 0;      // summed sample sizes from trun/tfhd/trex
};

struct ProducerReferenceTime {  // prft
  uint32_t reference_track_id = 0;
  uint64_t ntp_timestamp = 0;
  uint64_t media_time = 0;
};

struct MediaSegmentInfo {
  std::vector<std::string> brands;  // styp major + compatible
  bool slate = false;               // styp carries brand "slat"
  bool last_segment = false;        // styp carries brand "lmsg"
  bool has_sidx = false;
  std::optional<ProducerReferenceTime> prft;  // first prft seen
  uint32_t fragment_count = 0;                // number of moof boxes
  uint32_t first_sequence_number = 0;         // mfhd of the first moof
  std::vector<TrackFragmentSummary> tracks;   // in order of first appearance
  uint64_t mdat_bytes_described = 0;          // sum over tracks of bytes_described
  uint64_t mdat_bytes_present =
      0;  // of those, the bytes that lie inside an mdat payload in the input

  const TrackFragmentSummary* FindTrack(uint32_t track_id) const;
};

struct MediaParseResult {
  ParseError error;
  MediaSegmentInfo info;  // filled as far as parsing got
};

// Parses an init segment (ftyp, moov). Unknown boxes are skipped. kMalformed
// when there is no moov (empty input included), two moov, or a trak without tkhd.
InitParseResult ParseInitSegment(std::span<const uint8_t> data);

// Parses a media segment (styp, sidx, prft, emsg, moof+mdat ...). `init` may be
// null; it provides trex defaults when tfhd has none. A segment whose trun
// describes more bytes than its mdat holds is reported kMalformed with
// mdat_bytes_present < mdat_bytes_described; a segment that ends inside a box
// is kNeedMoreData. A segment with no moof is kMalformed.
//
// Where a trun's bytes are: tfhd base-data-offset if present, else the moof's
// first byte (default-base-is-moof, and the first traf of a moof), else, for a
// later traf, the end of the previous traf's data (ISO 14496-12); plus the trun
// data_offset. A trun without data_offset follows the previous trun of its traf;
// the first one under a moof-start base begins at the payload of the next mdat.
// Bytes that lie in no mdat payload present in the input are described but not
// present. When the input ends inside an mdat, mdat_bytes_present counts what
// has arrived and the status is kNeedMoreData.
//
// Nesting is limited to 16 levels; a box larger than its parent, or smaller
// than its own header, is kMalformed. Runs whose sample_count cannot fit in the
// trun are rejected before any sample is read.
MediaParseResult ParseMediaSegment(std::span<const uint8_t> data,
                                   const InitSegmentInfo* init = nullptr);

}  // namespace liveorigin::media
