// Hand-built boxes for the cases ffmpeg does not produce.
#include <gtest/gtest.h>

#include <functional>

#include "box_builder.h"
#include "liveorigin/media/iso_bmff.h"

namespace liveorigin::media {
namespace {

using testing::Box;
using testing::Bytes;
using testing::Cat;
using testing::FourCC;
using testing::FullBox;
using testing::U32;
using testing::U64;
using testing::Zeros;

constexpr uint32_t kDefaultBaseIsMoof = 0x020000;

Bytes Trak(uint32_t track_id, const char* handler, uint8_t mdhd_version, uint32_t timescale) {
  const Bytes mdhd = mdhd_version == 1
                         ? FullBox("mdhd", 1, 0, {U64(0), U64(0), U32(timescale), U64(0), U32(0)})
                         : FullBox("mdhd", 0, 0, {U32(0), U32(0), U32(timescale), U32(0), U32(0)});
  return Box("trak",
             {FullBox("tkhd", 0, 3, {U32(0), U32(0), U32(track_id), Zeros(60)}),
              Box("mdia", {mdhd, FullBox("hdlr", 0, 0, {U32(0), FourCC(handler), Zeros(13)}),
                           Box("minf", {})})});
}

Bytes Trex(uint32_t track_id, uint32_t duration, uint32_t size) {
  return FullBox("trex", 0, 0, {U32(track_id), U32(1), U32(duration), U32(size), U32(0)});
}

// A moof+mdat segment; `moof(data_offset)` builds the moof given the offset of
// the mdat payload from the moof start.
Bytes Segment(const std::function<Bytes(uint32_t)>& moof, const Bytes& mdat_payload) {
  const uint32_t data_offset = static_cast<uint32_t>(moof(0).size() + 8);
  return Cat({moof(data_offset), Box("mdat", {mdat_payload})});
}

Bytes Mfhd(uint32_t sequence) { return FullBox("mfhd", 0, 0, {U32(sequence)}); }

TEST(HandmadeInitTest, MdhdVersion1AndTextHandlers) {
  const Bytes init = Cat({Box("ftyp", {FourCC("cmfc"), U32(0)}),
                          Box("moov", {Trak(1, "text", 1, 1000), Trak(2, "subt", 0, 90000),
                                       Trak(3, "sbtl", 0, 1), Trak(4, "meta", 0, 1)})});
  const InitParseResult r = ParseInitSegment(init);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  EXPECT_EQ(r.info.major_brand, "cmfc");
  EXPECT_TRUE(r.info.compatible_brands.empty());
  ASSERT_EQ(r.info.tracks.size(), 4u);
  EXPECT_EQ(r.info.tracks[0].timescale, 1000u);
  EXPECT_EQ(r.info.tracks[0].handler, HandlerType::kText);
  EXPECT_EQ(r.info.tracks[1].timescale, 90000u);
  EXPECT_EQ(r.info.tracks[1].handler, HandlerType::kText);
  EXPECT_EQ(r.info.tracks[2].handler, HandlerType::kText);
  EXPECT_EQ(r.info.tracks[3].handler, HandlerType::kUnknown);
}

TEST(HandmadeInitTest, TrexAppliesWhereverMvexIs) {
  const Bytes init = Box("moov", {Box("mvex", {Trex(2, 1024, 7), Trex(9, 1, 1)}),
                                  Trak(1, "vide", 0, 12800), Trak(2, "soun", 0, 48000)});
  const InitParseResult r = ParseInitSegment(init);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  EXPECT_TRUE(r.info.major_brand.empty());
  ASSERT_EQ(r.info.tracks.size(), 2u);
  EXPECT_EQ(r.info.FindTrack(1)->default_sample_duration, 0u);
  EXPECT_EQ(r.info.FindTrack(2)->default_sample_duration, 1024u);
  EXPECT_EQ(r.info.FindTrack(2)->default_sample_size, 7u);
}

TEST(HandmadeInitTest, StructuralErrors) {
  EXPECT_EQ(ParseInitSegment(Box("moov", {Box("trak", {})})).error.status,
            ParseStatus::kMalformed);  // trak without tkhd
  EXPECT_EQ(ParseInitSegment(Cat({Box("moov", {}), Box("moov", {})})).error.status,
            ParseStatus::kMalformed);  // two moov
  EXPECT_EQ(ParseInitSegment(Box("ftyp", {FourCC("iso5")})).error.status,
            ParseStatus::kMalformed);  // short ftyp
  EXPECT_EQ(
      ParseInitSegment(Box("moov", {Box("mvex", {FullBox("trex", 0, 0, {U32(1)})})})).error.status,
      ParseStatus::kMalformed);  // short trex
}

TEST(HandmadeMediaTest, TrexDefaultsFillWhatTfhdLacks) {
  const Bytes segment = Segment(
      [](uint32_t offset) {
        return Box("moof",
                   {Mfhd(5), Box("traf", {FullBox("tfhd", 0, kDefaultBaseIsMoof, {U32(1)}),
                                          FullBox("tfdt", 0, 0, {U32(9000)}),
                                          FullBox("trun", 0, 0x1, {U32(3), U32(offset)})})});
      },
      Zeros(30));
  const InitParseResult init =
      ParseInitSegment(Box("moov", {Trak(1, "vide", 0, 90000), Box("mvex", {Trex(1, 3000, 10)})}));
  ASSERT_EQ(init.error.status, ParseStatus::kOk);

  MediaParseResult r = ParseMediaSegment(segment, &init.info);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  EXPECT_EQ(r.info.first_sequence_number, 5u);
  ASSERT_EQ(r.info.tracks.size(), 1u);
  EXPECT_EQ(r.info.tracks[0].base_decode_time, 9000u);
  EXPECT_EQ(r.info.tracks[0].sample_count, 3u);
  EXPECT_EQ(r.info.tracks[0].duration, 9000u);
  EXPECT_EQ(r.info.tracks[0].max_sample_duration, 3000u);
  EXPECT_EQ(r.info.tracks[0].bytes_described, 30u);

  // Without the init there are no defaults: zero durations and sizes.
  r = ParseMediaSegment(segment);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  EXPECT_EQ(r.info.tracks[0].duration, 0u);
  EXPECT_EQ(r.info.tracks[0].bytes_described, 0u);
}

TEST(HandmadeMediaTest, TrunVersion1WithEveryPerSampleField) {
  // duration, size, flags and a negative composition offset for each sample.
  const Bytes segment = Segment(
      [](uint32_t offset) {
        return Box("moof",
                   {Mfhd(1), Box("traf", {FullBox("tfhd", 0, kDefaultBaseIsMoof, {U32(7)}),
                                          FullBox("tfdt", 1, 0, {U64(1ull << 40)}),
                                          FullBox("trun", 1, 0xF05,
                                                  {U32(2), U32(offset), U32(0),  //
                                                   U32(100), U32(4), U32(0), U32(0xFFFFFF00),
                                                   U32(300), U32(6), U32(0), U32(0xFFFFFFFF)})})});
      },
      Zeros(10));
  const MediaParseResult r = ParseMediaSegment(segment);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  const TrackFragmentSummary* t = r.info.FindTrack(7);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->base_decode_time, 1ull << 40);
  EXPECT_EQ(t->sample_count, 2u);
  EXPECT_EQ(t->duration, 400u);
  EXPECT_EQ(t->max_sample_duration, 300u);
  EXPECT_EQ(t->bytes_described, 10u);
}

TEST(HandmadeMediaTest, RunsWithoutDataOffsetStartAtTheNextMdat) {
  const Bytes moof = Box(
      "moof",
      {Mfhd(1), Box("traf", {FullBox("tfhd", 0, kDefaultBaseIsMoof | 0x10, {U32(1), U32(4)}),
                             FullBox("trun", 0, 0, {U32(2)}), FullBox("trun", 0, 0, {U32(3)})})});
  MediaParseResult r = ParseMediaSegment(Cat({moof, Box("mdat", {Zeros(20)})}));
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  EXPECT_EQ(r.info.mdat_bytes_described, 20u);
  EXPECT_EQ(r.info.mdat_bytes_present, 20u);

  r = ParseMediaSegment(Cat({moof, Box("mdat", {Zeros(19)})}));
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.info.mdat_bytes_present, 19u);
}

TEST(HandmadeMediaTest, ExplicitBaseDataOffset) {
  // base_data_offset points at the mdat payload; the trun has no data_offset.
  auto segment = [](uint64_t base) {
    return Cat(
        {Box("moof",
             {Mfhd(1), Box("traf", {FullBox("tfhd", 0, 0x1 | 0x10, {U32(1), U64(base), U32(5)}),
                                    FullBox("trun", 0, 0, {U32(2)})})}),
         Box("mdat", {Zeros(10)})});
  };
  const size_t payload = segment(0).size() - 10;
  EXPECT_EQ(ParseMediaSegment(segment(payload)).error.status, ParseStatus::kOk);
  EXPECT_EQ(ParseMediaSegment(segment(payload + 1)).error.status, ParseStatus::kMalformed);
  EXPECT_EQ(ParseMediaSegment(segment(UINT64_MAX - 3)).error.status, ParseStatus::kMalformed);
}

TEST(HandmadeMediaTest, SecondTrafDataFollowsTheFirst) {
  // Neither base-data-offset nor default-base-is-moof: ISO 14496-12 puts the
  // second traf's data right after the first traf's.
  const Bytes segment = Segment(
      [](uint32_t offset) {
        return Box("moof", {Mfhd(1),
                            Box("traf", {FullBox("tfhd", 0, 0x10, {U32(1), U32(3)}),
                                         FullBox("trun", 0, 0x1, {U32(2), U32(offset)})}),
                            Box("traf", {FullBox("tfhd", 0, 0x10, {U32(2), U32(5)}),
                                         FullBox("trun", 0, 0, {U32(2)})})});
      },
      Zeros(16));
  MediaParseResult r = ParseMediaSegment(segment);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  ASSERT_EQ(r.info.tracks.size(), 2u);
  EXPECT_EQ(r.info.tracks[0].bytes_described, 6u);
  EXPECT_EQ(r.info.tracks[1].bytes_described, 10u);
  EXPECT_EQ(r.info.mdat_bytes_present, 16u);

  Bytes short_mdat(segment.begin(), segment.end() - 1);
  short_mdat[segment.size() - 24 + 3] -= 1;  // the mdat's size field, minus one
  r = ParseMediaSegment(short_mdat);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.info.mdat_bytes_present, 15u);
}

TEST(HandmadeMediaTest, HugeSampleCountWithDefaultsIsMalformed) {
  // No per-sample fields: nothing to loop over, but the bytes cannot be there.
  const Bytes segment = Segment(
      [](uint32_t offset) {
        return Box(
            "moof",
            {Mfhd(1), Box("traf", {FullBox("tfhd", 0, kDefaultBaseIsMoof | 0x18,
                                           {U32(1), U32(512), U32(100)}),
                                   FullBox("trun", 0, 0x1, {U32(0xFFFFFFFF), U32(offset)})})});
      },
      Zeros(100));
  const MediaParseResult r = ParseMediaSegment(segment);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.info.tracks[0].sample_count, 0xFFFFFFFFu);
  EXPECT_EQ(r.info.mdat_bytes_present, 100u);
}

TEST(HandmadeMediaTest, SizeAndCountOverflowSaturates) {
  // Many huge runs: the byte total saturates instead of wrapping.
  const Bytes trun = FullBox("trun", 0, 0x200, {U32(2), U32(0xFFFFFFFF), U32(0xFFFFFFFF)});
  Bytes traf_payload = FullBox("tfhd", 0, kDefaultBaseIsMoof, {U32(1)});
  Bytes runs;
  for (int i = 0; i < 20; ++i) runs = Cat({runs, trun});
  const Bytes segment =
      Cat({Box("moof", {Mfhd(1), Box("traf", {traf_payload, runs})}), Box("mdat", {})});
  const MediaParseResult r = ParseMediaSegment(segment);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_LE(r.info.mdat_bytes_present, r.info.mdat_bytes_described);
}

TEST(HandmadeMediaTest, StructuralErrors) {
  const Bytes mdat = Box("mdat", {});
  // traf without tfhd.
  EXPECT_EQ(ParseMediaSegment(Cat({Box("moof", {Mfhd(1), Box("traf", {})}), mdat})).error.status,
            ParseStatus::kMalformed);
  // trun before tfhd.
  EXPECT_EQ(ParseMediaSegment(Cat({Box("moof", {Box("traf", {FullBox("trun", 0, 0, {U32(0)}),
                                                             FullBox("tfhd", 0, 0, {U32(1)})})}),
                                   mdat}))
                .error.status,
            ParseStatus::kMalformed);
  // tfhd whose flags announce fields that are missing.
  EXPECT_EQ(ParseMediaSegment(
                Cat({Box("moof", {Box("traf", {FullBox("tfhd", 0, 0x3F, {U32(1)})})}), mdat}))
                .error.status,
            ParseStatus::kMalformed);
  // No moof at all.
  EXPECT_EQ(ParseMediaSegment(Cat({Box("styp", {FourCC("msdh"), U32(0)}), mdat})).error.status,
            ParseStatus::kMalformed);
  // An empty moof is a fragment with no samples.
  const MediaParseResult empty = ParseMediaSegment(Cat({Box("moof", {}), mdat}));
  EXPECT_EQ(empty.error.status, ParseStatus::kOk) << empty.error.message;
  EXPECT_EQ(empty.info.fragment_count, 1u);
}

}  // namespace
}  // namespace liveorigin::media
