// One struct and one parse function per ISO-BMFF box the inspector reads.
// Private to lo_media.
//
// Each Parse* function takes the payload of a complete box (the bytes after its
// header) and returns kMalformed, naming the box, when a field does not fit.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "box_reader.h"
#include "liveorigin/media/iso_bmff.h"

namespace liveorigin::media {

struct FileTypeBox {  // ftyp, styp
  FourCC major_brand = 0;
  uint32_t minor_version = 0;
  std::vector<FourCC> compatible_brands;  // one per 4 bytes present
};
ParseError ParseFileType(std::span<const uint8_t> payload, FileTypeBox* box);

struct TrackHeaderBox {  // tkhd
  uint32_t track_id = 0;
};
ParseError ParseTrackHeader(std::span<const uint8_t> payload, TrackHeaderBox* box);

struct MediaHeaderBox {  // mdhd
  uint32_t timescale = 0;
};
ParseError ParseMediaHeader(std::span<const uint8_t> payload, MediaHeaderBox* box);

struct HandlerBox {  // hdlr
  FourCC handler_type = 0;
};
ParseError ParseHandler(std::span<const uint8_t> payload, HandlerBox* box);

struct TrackExtendsBox {  // trex
  uint32_t track_id = 0;
  uint32_t default_sample_description_index = 0;
  uint32_t default_sample_duration = 0;
  uint32_t default_sample_size = 0;
  uint32_t default_sample_flags = 0;
};
ParseError ParseTrackExtends(std::span<const uint8_t> payload, TrackExtendsBox* box);

struct MovieFragmentHeaderBox {  // mfhd
  uint32_t sequence_number = 0;
};
ParseError ParseMovieFragmentHeader(std::span<const uint8_t> payload, MovieFragmentHeaderBox* box);

struct TrackFragmentHeaderBox {  // tfhd
  static constexpr uint32_t kBaseDataOffsetPresent = 0x000001;
  static constexpr uint32_t kSampleDescriptionIndexPresent = 0x000002;
  static constexpr uint32_t kDefaultSampleDurationPresent = 0x000008;
  static constexpr uint32_t kDefaultSampleSizePresent = 0x000010;
  static constexpr uint32_t kDefaultSampleFlagsPresent = 0x000020;
  static constexpr uint32_t kDurationIsEmpty = 0x010000;
  static constexpr uint32_t kDefaultBaseIsMoof = 0x020000;

  uint32_t flags = 0;
  uint32_t track_id = 0;
  std::optional<uint64_t> base_data_offset;
  std::optional<uint32_t> sample_description_index;
  std::optional<uint32_t> default_sample_duration;
  std::optional<uint32_t> default_sample_size;
  std::optional<uint32_t> default_sample_flags;
};
ParseError ParseTrackFragmentHeader(std::span<const uint8_t> payload, TrackFragmentHeaderBox* box);

struct TrackFragmentDecodeTimeBox {  // tfdt
  uint64_t base_media_decode_time = 0;
};
ParseError ParseTrackFragmentDecodeTime(std::span<const uint8_t> payload,
                                        TrackFragmentDecodeTimeBox* box);

// trun, summarised rather than stored: the samples are never kept, so a huge
// sample_count cannot make the parser allocate.
struct TrackRunBox {
  static constexpr uint32_t kDataOffsetPresent = 0x000001;
  static constexpr uint32_t kFirstSampleFlagsPresent = 0x000004;
  static constexpr uint32_t kSampleDurationPresent = 0x000100;
  static constexpr uint32_t kSampleSizePresent = 0x000200;
  static constexpr uint32_t kSampleFlagsPresent = 0x000400;
  static constexpr uint32_t kSampleCompositionTimeOffsetPresent = 0x000800;

  uint32_t sample_count = 0;
  std::optional<int32_t> data_offset;
  uint64_t duration = 0;  // summed sample durations
  uint32_t max_sample_duration = 0;
  uint64_t bytes = 0;  // summed sample sizes (saturating)
};
// Samples without their own duration or size take `default_duration` and
// `default_size`. Rejects, before reading any sample, a sample_count whose
// per-sample fields would not fit in the payload.
ParseError ParseTrackRun(std::span<const uint8_t> payload, uint32_t default_duration,
                         uint32_t default_size, TrackRunBox* box);

ParseError ParseProducerReferenceTime(std::span<const uint8_t> payload, ProducerReferenceTime* box);

// a + b, clamped at UINT64_MAX.
inline uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

}  // namespace liveorigin::media
