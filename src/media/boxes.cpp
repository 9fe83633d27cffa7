#include "boxes.h"

#include <bit>
#include <string>

#include "buffer_reader.h"

namespace liveorigin::media {
namespace {

ParseError TooShort(const char* box) {
  return Malformed(std::string("'") + box + "': payload too short for its fields");
}

}  // namespace

// Every field read is checked; the first short read fails the whole box.
#define RCHECK(box, x) \
  if (!(x)) return TooShort(box)

ParseError ParseFileType(std::span<const uint8_t> payload, FileTypeBox* box) {
  BufferReader r(payload);
  RCHECK("ftyp", r.Read4(&box->major_brand) && r.Read4(&box->minor_version));
  FourCC brand = 0;
  while (r.Read4(&brand)) box->compatible_brands.push_back(brand);
  return Ok();
}

ParseError ParseTrackHeader(std::span<const uint8_t> payload, TrackHeaderBox* box) {
  BufferReader r(payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  // creation_time and modification_time are 32 bits in version 0, 64 in 1.
  RCHECK("tkhd", r.ReadFullBoxHeader(&version, &flags) && r.Skip(version == 1 ? 16 : 8) &&
                     r.Read4(&box->track_id));
  return Ok();
}

ParseError ParseMediaHeader(std::span<const uint8_t> payload, MediaHeaderBox* box) {
  BufferReader r(payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  RCHECK("mdhd", r.ReadFullBoxHeader(&version, &flags) && r.Skip(version == 1 ? 16 : 8) &&
                     r.Read4(&box->timescale));
  return Ok();
}

ParseError ParseHandler(std::span<const uint8_t> payload, HandlerBox* box) {
  BufferReader r(payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  uint32_t pre_defined = 0;
  RCHECK("hdlr", r.ReadFullBoxHeader(&version, &flags) && r.Read4(&pre_defined) &&
                     r.Read4(&box->handler_type));
  return Ok();
}

ParseError ParseTrackExtends(std::span<const uint8_t> payload, TrackExtendsBox* box) {
  BufferReader r(payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  RCHECK("trex", r.ReadFullBoxHeader(&version, &flags) && r.Read4(&box->track_id) &&
                     r.Read4(&box->default_sample_description_index) &&
                     r.Read4(&box->default_sample_duration) && r.Read4(&box->default_sample_size) &&
                     r.Read4(&box->default_sample_flags));
  return Ok();
}

ParseError ParseMovieFragmentHeader(std::span<const uint8_t> payload, MovieFragmentHeaderBox* box) {
  BufferReader r(payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  RCHECK("mfhd", r.ReadFullBoxHeader(&version, &flags) && r.Read4(&box->sequence_number));
  return Ok();
}

ParseError ParseTrackFragmentHeader(std::span<const uint8_t> payload, TrackFragmentHeaderBox* box) {
  using B = TrackFragmentHeaderBox;
  BufferReader r(payload);
  uint8_t version = 0;
  RCHECK("tfhd", r.ReadFullBoxHeader(&version, &box->flags) && r.Read4(&box->track_id));
  auto optional4 = [&](uint32_t flag, std::optional<uint32_t>* field) {
    if (!(box->flags & flag)) return true;
    uint32_t v = 0;
    if (!r.Read4(&v)) return false;
    *field = v;
    return true;
  };
  if (box->flags & B::kBaseDataOffsetPresent) {
    uint64_t v = 0;
    RCHECK("tfhd", r.Read8(&v));
    box->base_data_offset = v;
  }
  RCHECK("tfhd", optional4(B::kSampleDescriptionIndexPresent, &box->sample_description_index) &&
                     optional4(B::kDefaultSampleDurationPresent, &box->default_sample_duration) &&
                     optional4(B::kDefaultSampleSizePresent, &box->default_sample_size) &&
                     optional4(B::kDefaultSampleFlagsPresent, &box->default_sample_flags));
  return Ok();
}

ParseError ParseTrackFragmentDecodeTime(std::span<const uint8_t> payload,
                                        TrackFragmentDecodeTimeBox* box) {
  BufferReader r(payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  RCHECK("tfdt", r.ReadFullBoxHeader(&version, &flags) &&
                     r.Read4Or8(version == 1, &box->base_media_decode_time));
  return Ok();
}

ParseError ParseTrackRun(std::span<const uint8_t> payload, uint32_t default_duration,
                         uint32_t default_size, TrackRunBox* box) {
  using B = TrackRunBox;
  BufferReader r(payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  RCHECK("trun", r.ReadFullBoxHeader(&version, &flags) && r.Read4(&box->sample_count));
  if (flags & B::kDataOffsetPresent) {
    int32_t v = 0;
    RCHECK("trun", r.Read4s(&v));
    box->data_offset = v;
  }
  uint32_t first_sample_flags = 0;
  if (flags & B::kFirstSampleFlagsPresent) {
    RCHECK("trun", r.Read4(&first_sample_flags));
  }

  const bool has_duration = flags & B::kSampleDurationPresent;
  const bool has_size = flags & B::kSampleSizePresent;
  const uint32_t per_sample_fields =
      std::popcount(flags & (B::kSampleDurationPresent | B::kSampleSizePresent |
                             B::kSampleFlagsPresent | B::kSampleCompositionTimeOffsetPresent));
  const uint64_t needed = uint64_t{box->sample_count} * per_sample_fields * 4;
  if (!r.HasBytes(needed)) {
    return Malformed("'trun': sample_count " + std::to_string(box->sample_count) + " needs " +
                     std::to_string(needed) + " bytes of sample fields, box has " +
                     std::to_string(r.remaining()));
  }

  if (!has_duration && !has_size) {
    // Every sample takes the defaults: no need to visit them one by one.
    box->duration = uint64_t{box->sample_count} * default_duration;
    box->bytes = uint64_t{box->sample_count} * default_size;
    box->max_sample_duration = box->sample_count > 0 ? default_duration : 0;
    return Ok();
  }
  const uint32_t skip_after = (flags & B::kSampleFlagsPresent ? 4 : 0) +
                              (flags & B::kSampleCompositionTimeOffsetPresent ? 4 : 0);
  for (uint32_t i = 0; i < box->sample_count; ++i) {
    uint32_t duration = default_duration;
    uint32_t size = default_size;
    // Sizes were checked above; these reads cannot fail, but stay checked.
    RCHECK("trun", (!has_duration || r.Read4(&duration)) && (!has_size || r.Read4(&size)) &&
                       r.Skip(skip_after));
    box->duration += duration;
    box->bytes += size;
    if (duration > box->max_sample_duration) box->max_sample_duration = duration;
  }
  return Ok();
}

ParseError ParseProducerReferenceTime(std::span<const uint8_t> payload,
                                      ProducerReferenceTime* box) {
  BufferReader r(payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  RCHECK("prft", r.ReadFullBoxHeader(&version, &flags) && r.Read4(&box->reference_track_id) &&
                     r.Read8(&box->ntp_timestamp) && r.Read4Or8(version == 1, &box->media_time));
  return Ok();
}

#undef RCHECK

}  // namespace liveorigin::media
