// Real ffmpeg segments, damaged or rewritten in test code.
#include <gtest/gtest.h>

#include <random>

#include "fixture.h"
#include "liveorigin/media/iso_bmff.h"

namespace liveorigin::media {
namespace {

using testing::Box;
using testing::Bytes;
using testing::Cat;
using testing::FindBox;
using testing::FourCC;
using testing::FullBox;
using testing::GetU32;
using testing::LargeBox;
using testing::LoadFixture;
using testing::PutU32;
using testing::U32;
using testing::U64;
using testing::Zeros;

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class MutationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    segment_ = LoadFixture("dash_video_1.m4s");
    ASSERT_FALSE(segment_.empty());
    moof_ = FindBox(segment_, "moof");
    mdat_ = FindBox(segment_, "mdat");
    trun_ = FindBox(segment_, "trun");
    ASSERT_NE(moof_, SIZE_MAX);
    ASSERT_NE(mdat_, SIZE_MAX);
    ASSERT_NE(trun_, SIZE_MAX);
    const MediaParseResult r = ParseMediaSegment(segment_);
    ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
    original_ = r.info;
  }

  // The segment with its leading styp and sidx replaced by `prefix`.
  Bytes WithPrefix(const Bytes& prefix) const {
    return Cat({prefix, Bytes(segment_.begin() + static_cast<ptrdiff_t>(moof_), segment_.end())});
  }

  void ExpectSameSummary(const MediaSegmentInfo& info) const {
    ASSERT_EQ(info.tracks.size(), 1u);
    EXPECT_EQ(info.tracks[0].sample_count, original_.tracks[0].sample_count);
    EXPECT_EQ(info.tracks[0].duration, original_.tracks[0].duration);
    EXPECT_EQ(info.tracks[0].bytes_described, original_.tracks[0].bytes_described);
    EXPECT_EQ(info.mdat_bytes_present, original_.mdat_bytes_present);
  }

  Bytes segment_;
  size_t moof_ = 0, mdat_ = 0, trun_ = 0;
  MediaSegmentInfo original_;
};

TEST_F(MutationTest, TruncatedMdatIsNeedMoreData) {
  segment_.resize(segment_.size() - 100);
  const MediaParseResult r = ParseMediaSegment(segment_);
  EXPECT_EQ(r.error.status, ParseStatus::kNeedMoreData);
  EXPECT_TRUE(Contains(r.error.message, "mdat")) << r.error.message;
  EXPECT_EQ(r.info.mdat_bytes_described, original_.mdat_bytes_described);
  EXPECT_EQ(r.info.mdat_bytes_present, original_.mdat_bytes_described - 100);
}

TEST_F(MutationTest, EveryPrefixEndingInsideABoxIsNeedMoreData) {
  const size_t boundaries[] = {0, FindBox(segment_, "sidx"), moof_, mdat_};
  for (size_t cut = 0; cut < segment_.size(); ++cut) {
    const Bytes prefix(segment_.begin(), segment_.begin() + static_cast<ptrdiff_t>(cut));
    const ParseStatus status = ParseMediaSegment(prefix).error.status;
    const bool at_boundary =
        std::find(std::begin(boundaries), std::end(boundaries), cut) != std::end(boundaries);
    // Complete boxes without (all of) the media are not a segment: malformed.
    EXPECT_EQ(status, at_boundary ? ParseStatus::kMalformed : ParseStatus::kNeedMoreData)
        << "cut at " << cut;
  }
}

TEST_F(MutationTest, MdatSmallerThanTrunDescribesIsMalformed) {
  const uint32_t mdat_size = GetU32(segment_, mdat_);
  PutU32(&segment_, mdat_, mdat_size - 100);
  segment_.resize(mdat_ + mdat_size - 100);
  const MediaParseResult r = ParseMediaSegment(segment_);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_TRUE(Contains(r.error.message, "trun describes")) << r.error.message;
  EXPECT_EQ(r.info.mdat_bytes_present, r.info.mdat_bytes_described - 100);
}

TEST_F(MutationTest, MissingMdatIsMalformed) {
  segment_.resize(mdat_);
  const MediaParseResult r = ParseMediaSegment(segment_);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.info.mdat_bytes_present, 0u);
}

TEST_F(MutationTest, TopLevelBoxPastEndIsNeedMoreData) {
  PutU32(&segment_, moof_, 0x7FFFFFFF);
  EXPECT_EQ(ParseMediaSegment(segment_).error.status, ParseStatus::kNeedMoreData);
}

TEST_F(MutationTest, MdatSizeZeroRunsToEnd) {
  PutU32(&segment_, mdat_, 0);
  const MediaParseResult r = ParseMediaSegment(segment_);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  ExpectSameSummary(r.info);
}

TEST_F(MutationTest, LastChildSizeZeroRunsToEndOfParent) {
  // trun is the last box of traf, which is the last box of moof.
  PutU32(&segment_, trun_, 0);
  const MediaParseResult r = ParseMediaSegment(segment_);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  ExpectSameSummary(r.info);
}

TEST_F(MutationTest, HugeSampleCountIsMalformed) {
  PutU32(&segment_, trun_ + 12, 0x80000000u);  // after size, type, version+flags
  const MediaParseResult r = ParseMediaSegment(segment_);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_TRUE(Contains(r.error.message, "trun")) << r.error.message;
  ASSERT_EQ(r.info.tracks.size(), 1u);
  EXPECT_EQ(r.info.tracks[0].sample_count, 0u);
}

TEST_F(MutationTest, NestedBoxLargerThanParentIsMalformed) {
  const size_t tfhd = FindBox(segment_, "tfhd");
  PutU32(&segment_, tfhd, GetU32(segment_, tfhd) + 1000);
  const MediaParseResult r = ParseMediaSegment(segment_);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_TRUE(Contains(r.error.message, "larger than")) << r.error.message;
}

TEST_F(MutationTest, TrafLargerThanMoofIsMalformed) {
  const size_t traf = FindBox(segment_, "traf");
  PutU32(&segment_, traf, GetU32(segment_, traf) + 8);
  EXPECT_EQ(ParseMediaSegment(segment_).error.status, ParseStatus::kMalformed);
}

TEST_F(MutationTest, SizeSmallerThanHeaderIsMalformed) {
  Bytes top = segment_;
  PutU32(&top, FindBox(top, "sidx"), 4);
  EXPECT_EQ(ParseMediaSegment(top).error.status, ParseStatus::kMalformed);
  Bytes nested = segment_;
  PutU32(&nested, FindBox(nested, "tfdt"), 7);
  EXPECT_EQ(ParseMediaSegment(nested).error.status, ParseStatus::kMalformed);
}

TEST_F(MutationTest, BoxTooSmallForItsFieldsIsMalformed) {
  // A tfdt of 8 bytes: a valid header, no room for version, flags and time.
  Bytes data = segment_;
  const size_t tfdt = FindBox(data, "tfdt");
  const uint32_t tfdt_size = GetU32(data, tfdt);
  const Bytes replacement = Cat({U32(8), FourCC("tfdt"), Box("free", {Zeros(tfdt_size - 16)})});
  std::copy(replacement.begin(), replacement.end(), data.begin() + static_cast<ptrdiff_t>(tfdt));
  const MediaParseResult r = ParseMediaSegment(data);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_TRUE(Contains(r.error.message, "tfdt")) << r.error.message;
}

TEST_F(MutationTest, LargesizeHeadersAreHonoured) {
  // styp as a largesize box: everything after it moves by 8, offsets are moof-relative.
  const Bytes styp_payload(segment_.begin() + 8, segment_.begin() + GetU32(segment_, 0));
  Bytes data = WithPrefix(LargeBox("styp", {styp_payload}));
  MediaParseResult r = ParseMediaSegment(data);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  EXPECT_EQ(r.info.brands, original_.brands);
  ExpectSameSummary(r.info);

  // mdat as a largesize box: its payload moves by 8, so does trun's data_offset.
  const uint32_t mdat_size = GetU32(segment_, mdat_);
  data = Cat({Bytes(segment_.begin(), segment_.begin() + static_cast<ptrdiff_t>(mdat_)), U32(1),
              FourCC("mdat"), U64(mdat_size + 8),
              Bytes(segment_.begin() + static_cast<ptrdiff_t>(mdat_ + 8), segment_.end())});
  PutU32(&data, trun_ + 16, GetU32(data, trun_ + 16) + 8);
  r = ParseMediaSegment(data);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  ExpectSameSummary(r.info);
}

TEST_F(MutationTest, WrongDataOffsetIsMalformed) {
  PutU32(&segment_, trun_ + 16, GetU32(segment_, trun_ + 16) + 1000);
  const MediaParseResult r = ParseMediaSegment(segment_);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.info.mdat_bytes_present, r.info.mdat_bytes_described - 1000);
  PutU32(&segment_, trun_ + 16, 0x80000000u);  // far before the segment start
  EXPECT_EQ(ParseMediaSegment(segment_).error.status, ParseStatus::kMalformed);
}

TEST_F(MutationTest, SlateAndLastSegmentBrands) {
  const Bytes styp =
      Box("styp", {FourCC("msdh"), U32(0), FourCC("msdh"), FourCC("slat"), FourCC("lmsg")});
  const MediaParseResult r = ParseMediaSegment(WithPrefix(styp));
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  EXPECT_TRUE(r.info.slate);
  EXPECT_TRUE(r.info.last_segment);
  EXPECT_EQ(r.info.brands, (std::vector<std::string>{"msdh", "msdh", "slat", "lmsg"}));
  EXPECT_FALSE(r.info.has_sidx);
}

TEST_F(MutationTest, ProducerReferenceTimeVersion0And1) {
  const Bytes styp(segment_.begin(), segment_.begin() + GetU32(segment_, 0));
  const Bytes prft_v0 = FullBox("prft", 0, 0, {U32(1), U64(0xE0000000'00000001ull), U32(4096)});
  const Bytes prft_v1 = FullBox("prft", 1, 0, {U32(2), U64(7), U64(0x1'00000000ull)});

  MediaParseResult r = ParseMediaSegment(WithPrefix(Cat({styp, prft_v0, prft_v1})));
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  ASSERT_TRUE(r.info.prft.has_value());
  EXPECT_EQ(r.info.prft->reference_track_id, 1u);
  EXPECT_EQ(r.info.prft->ntp_timestamp, 0xE0000000'00000001ull);
  EXPECT_EQ(r.info.prft->media_time, 4096u);

  r = ParseMediaSegment(WithPrefix(Cat({styp, prft_v1})));
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  ASSERT_TRUE(r.info.prft.has_value());
  EXPECT_EQ(r.info.prft->reference_track_id, 2u);
  EXPECT_EQ(r.info.prft->media_time, 0x1'00000000ull);

  const Bytes short_prft = FullBox("prft", 1, 0, {U32(2), U64(7), U32(0)});
  EXPECT_EQ(ParseMediaSegment(WithPrefix(Cat({styp, short_prft}))).error.status,
            ParseStatus::kMalformed);
}

TEST_F(MutationTest, EmsgAndUnknownBoxesAreSkipped) {
  const Bytes styp(segment_.begin(), segment_.begin() + GetU32(segment_, 0));
  const Bytes emsg = FullBox("emsg", 1, 0, {U32(1000), U64(0), U32(0), U32(1), Zeros(20)});
  const Bytes uuid = Cat({U32(28), FourCC("uuid"), Zeros(20)});
  const MediaParseResult r =
      ParseMediaSegment(WithPrefix(Cat({styp, emsg, uuid, Box("zzzz", {Zeros(3)})})));
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  ExpectSameSummary(r.info);
}

TEST(MediaSegmentInputTest, EmptyInputIsMalformed) {
  EXPECT_EQ(ParseMediaSegment({}).error.status, ParseStatus::kMalformed);
  EXPECT_EQ(ParseInitSegment({}).error.status, ParseStatus::kMalformed);
}

TEST(InitMutationTest, EveryPrefixEndingInsideABoxIsNeedMoreData) {
  const Bytes init = LoadFixture("hls_muxed_init.mp4");
  const size_t moov = FindBox(init, "moov");
  ASSERT_NE(moov, SIZE_MAX);
  for (size_t cut = 0; cut < init.size(); ++cut) {
    const Bytes prefix(init.begin(), init.begin() + static_cast<ptrdiff_t>(cut));
    const ParseStatus status = ParseInitSegment(prefix).error.status;
    const bool at_boundary = cut == 0 || cut == moov;
    EXPECT_EQ(status, at_boundary ? ParseStatus::kMalformed : ParseStatus::kNeedMoreData)
        << "cut at " << cut;
  }
}

TEST(InitMutationTest, NestedBoxLargerThanParentIsMalformed) {
  Bytes init = LoadFixture("dash_video_init.mp4");
  const size_t mdhd = FindBox(init, "mdhd");
  ASSERT_NE(mdhd, SIZE_MAX);
  PutU32(&init, mdhd, 5000);
  const InitParseResult r = ParseInitSegment(init);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_TRUE(Contains(r.error.message, "mdhd")) << r.error.message;
}

// Nothing may crash, hang or allocate by the input's word; results stay consistent.
void ExpectConsistent(const Bytes& data) {
  const MediaParseResult m = ParseMediaSegment(data);
  EXPECT_EQ(m.error.status == ParseStatus::kOk, m.error.message.empty());
  EXPECT_LE(m.info.mdat_bytes_present, m.info.mdat_bytes_described);
  if (m.error.status == ParseStatus::kOk) {
    EXPECT_EQ(m.info.mdat_bytes_present, m.info.mdat_bytes_described);
    EXPECT_GT(m.info.fragment_count, 0u);
  }
  const InitParseResult i = ParseInitSegment(data);
  EXPECT_EQ(i.error.status == ParseStatus::kOk, i.error.message.empty());
}

TEST(GarbageTest, RandomBytes) {
  std::mt19937 rng(42);
  for (int n = 0; n < 2000; ++n) {
    Bytes data(rng() % 600);
    for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
    ExpectConsistent(data);
  }
}

TEST(GarbageTest, RandomlyDamagedRealSegments) {
  std::mt19937 rng(7);
  const Bytes inputs[] = {LoadFixture("dash_video_1.m4s"), LoadFixture("hls_muxed_0.m4s"),
                          LoadFixture("ldash_video_1.m4s"), LoadFixture("hls_muxed_init.mp4")};
  for (const Bytes& input : inputs) {
    ASSERT_FALSE(input.empty());
    for (int n = 0; n < 300; ++n) {
      Bytes data = input;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        // Damage mostly the boxes at the front, where the structure is.
        const size_t at = rng() % std::min<size_t>(data.size(), 700);
        data[at] = static_cast<uint8_t>(rng());
      }
      ExpectConsistent(data);
    }
  }
}

}  // namespace
}  // namespace liveorigin::media
