// ParseInitSegment / ParseMediaSegment on real ffmpeg 5.1 output
// (scripts/make-media-fixtures.sh).
#include "liveorigin/media/iso_bmff.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "fixture.h"

namespace liveorigin::media {
namespace {

using testing::Bytes;
using testing::LoadFixture;

bool HasBrand(const std::vector<std::string>& brands, const std::string& brand) {
  return std::find(brands.begin(), brands.end(), brand) != brands.end();
}

InitSegmentInfo ParseInitOrDie(const std::string& name) {
  const Bytes data = LoadFixture(name);
  EXPECT_FALSE(data.empty()) << name;
  InitParseResult r = ParseInitSegment(data);
  EXPECT_EQ(r.error.status, ParseStatus::kOk) << name << ": " << r.error.message;
  return r.info;
}

MediaSegmentInfo ParseMediaOrDie(const std::string& name, const InitSegmentInfo* init) {
  const Bytes data = LoadFixture(name);
  EXPECT_FALSE(data.empty()) << name;
  MediaParseResult r = ParseMediaSegment(data, init);
  EXPECT_EQ(r.error.status, ParseStatus::kOk) << name << ": " << r.error.message;
  EXPECT_TRUE(r.error.message.empty());
  EXPECT_EQ(r.info.mdat_bytes_present, r.info.mdat_bytes_described) << name;
  return r.info;
}

TEST(InitSegmentTest, DashVideoInit) {
  const InitSegmentInfo info = ParseInitOrDie("dash_video_init.mp4");
  EXPECT_EQ(info.major_brand, "iso5");
  EXPECT_TRUE(HasBrand(info.compatible_brands, "iso6"));
  ASSERT_EQ(info.tracks.size(), 1u);
  EXPECT_EQ(info.tracks[0].track_id, 1u);
  EXPECT_EQ(info.tracks[0].handler, HandlerType::kVideo);
  EXPECT_EQ(info.tracks[0].timescale, 12800u);
  EXPECT_EQ(info.FindTrack(1), &info.tracks[0]);
  EXPECT_EQ(info.FindTrack(2), nullptr);
}

TEST(InitSegmentTest, DashAudioInit) {
  const InitSegmentInfo info = ParseInitOrDie("dash_audio_init.mp4");
  ASSERT_EQ(info.tracks.size(), 1u);
  EXPECT_EQ(info.tracks[0].handler, HandlerType::kAudio);
  EXPECT_EQ(info.tracks[0].timescale, 48000u);
}

TEST(InitSegmentTest, HlsMuxedInitHasTwoTracks) {
  const InitSegmentInfo info = ParseInitOrDie("hls_muxed_init.mp4");
  ASSERT_EQ(info.tracks.size(), 2u);
  const TrackInfo* video = info.FindTrack(1);
  const TrackInfo* audio = info.FindTrack(2);
  ASSERT_NE(video, nullptr);
  ASSERT_NE(audio, nullptr);
  EXPECT_EQ(video->handler, HandlerType::kVideo);
  EXPECT_EQ(video->timescale, 12800u);
  EXPECT_EQ(audio->handler, HandlerType::kAudio);
  EXPECT_EQ(audio->timescale, 48000u);
}

TEST(InitSegmentTest, MediaSegmentIsNotAnInit) {
  const Bytes data = LoadFixture("dash_video_1.m4s");
  EXPECT_EQ(ParseInitSegment(data).error.status, ParseStatus::kMalformed);
}

TEST(MediaSegmentTest, DashVideoSegmentIsOneSecond) {
  const InitSegmentInfo init = ParseInitOrDie("dash_video_init.mp4");
  const MediaSegmentInfo info = ParseMediaOrDie("dash_video_1.m4s", &init);
  EXPECT_TRUE(HasBrand(info.brands, "msdh"));
  EXPECT_FALSE(info.slate);
  EXPECT_FALSE(info.last_segment);
  EXPECT_TRUE(info.has_sidx);
  EXPECT_FALSE(info.prft.has_value());
  EXPECT_EQ(info.fragment_count, 1u);
  EXPECT_EQ(info.first_sequence_number, 1u);
  ASSERT_EQ(info.tracks.size(), 1u);
  const TrackFragmentSummary& t = info.tracks[0];
  EXPECT_EQ(t.track_id, 1u);
  EXPECT_TRUE(t.has_base_decode_time);
  EXPECT_EQ(t.base_decode_time, 0u);
  EXPECT_EQ(t.sample_count, 25u);
  EXPECT_EQ(t.duration, init.tracks[0].timescale);  // 1 s
  EXPECT_EQ(t.max_sample_duration, 512u);           // from the tfhd default
  EXPECT_GT(t.bytes_described, 0u);
  EXPECT_EQ(info.mdat_bytes_described, t.bytes_described);
}

TEST(MediaSegmentTest, DashVideoDecodeTimeContinues) {
  const MediaSegmentInfo first = ParseMediaOrDie("dash_video_1.m4s", nullptr);
  const MediaSegmentInfo second = ParseMediaOrDie("dash_video_2.m4s", nullptr);
  ASSERT_EQ(first.tracks.size(), 1u);
  ASSERT_EQ(second.tracks.size(), 1u);
  EXPECT_EQ(second.first_sequence_number, 2u);
  EXPECT_EQ(second.tracks[0].base_decode_time,
            first.tracks[0].base_decode_time + first.tracks[0].duration);
}

TEST(MediaSegmentTest, DashAudioDurationsComeFromTfhdDefaults) {
  const InitSegmentInfo init = ParseInitOrDie("dash_audio_init.mp4");
  const MediaSegmentInfo first = ParseMediaOrDie("dash_audio_1.m4s", &init);
  const MediaSegmentInfo second = ParseMediaOrDie("dash_audio_2.m4s", &init);
  ASSERT_EQ(first.tracks.size(), 1u);
  ASSERT_EQ(second.tracks.size(), 1u);
  // AAC frames of 1024 samples at 48 kHz; 47 frames cover the first second.
  EXPECT_EQ(first.tracks[0].sample_count, 47u);
  EXPECT_EQ(first.tracks[0].duration, 47u * 1024u);
  EXPECT_EQ(first.tracks[0].max_sample_duration, 1024u);
  EXPECT_EQ(second.tracks[0].base_decode_time,
            first.tracks[0].base_decode_time + first.tracks[0].duration);
}

TEST(MediaSegmentTest, LowLatencyDashHasOneFragmentPerFrame) {
  const InitSegmentInfo init = ParseInitOrDie("ldash_video_init.mp4");
  const MediaSegmentInfo info = ParseMediaOrDie("ldash_video_1.m4s", &init);
  EXPECT_EQ(info.fragment_count, 25u);
  EXPECT_EQ(info.first_sequence_number, 1u);
  ASSERT_EQ(info.tracks.size(), 1u);
  EXPECT_EQ(info.tracks[0].sample_count, 25u);
  EXPECT_EQ(info.tracks[0].duration, 12800u);
  EXPECT_EQ(info.tracks[0].base_decode_time, 0u);
}

TEST(MediaSegmentTest, HlsMuxedSegmentHasTwoTracks) {
  const InitSegmentInfo init = ParseInitOrDie("hls_muxed_init.mp4");
  const MediaSegmentInfo info = ParseMediaOrDie("hls_muxed_0.m4s", &init);
  EXPECT_EQ(info.fragment_count, 1u);
  ASSERT_EQ(info.tracks.size(), 2u);
  const TrackFragmentSummary* video = info.FindTrack(1);
  const TrackFragmentSummary* audio = info.FindTrack(2);
  ASSERT_NE(video, nullptr);
  ASSERT_NE(audio, nullptr);
  EXPECT_EQ(video->sample_count, 25u);
  EXPECT_EQ(video->duration, 12800u);
  EXPECT_EQ(audio->sample_count, 48u);
  EXPECT_EQ(audio->duration, audio->sample_count * 1024);
  EXPECT_EQ(info.mdat_bytes_described, video->bytes_described + audio->bytes_described);
  EXPECT_EQ(info.FindTrack(3), nullptr);
}

TEST(MediaSegmentTest, InitIsNotAMediaSegment) {
  const Bytes data = LoadFixture("dash_video_init.mp4");
  const MediaParseResult r = ParseMediaSegment(data);
  EXPECT_EQ(r.error.status, ParseStatus::kMalformed);
  EXPECT_NE(r.error.message.find("moof"), std::string::npos);
}

// The hand-made seeds of the fuzz corpus stay valid, so fuzzing starts from
// inputs that reach every box parser.
TEST(FuzzSeedTest, HandmadeSeedsParse) {
  const Bytes init_data = testing::LoadRepoFile("tests/fuzz/corpus/iso_bmff/tiny_init.mp4");
  const InitParseResult init = ParseInitSegment(init_data);
  ASSERT_EQ(init.error.status, ParseStatus::kOk) << init.error.message;
  ASSERT_EQ(init.info.tracks.size(), 1u);
  EXPECT_EQ(init.info.tracks[0].handler, HandlerType::kText);
  EXPECT_EQ(init.info.tracks[0].timescale, 1000u);
  EXPECT_EQ(init.info.tracks[0].default_sample_duration, 40u);

  const Bytes media_data = testing::LoadRepoFile("tests/fuzz/corpus/iso_bmff/tiny_media.m4s");
  const MediaParseResult media = ParseMediaSegment(media_data, &init.info);
  ASSERT_EQ(media.error.status, ParseStatus::kOk) << media.error.message;
  EXPECT_TRUE(media.info.slate);
  EXPECT_TRUE(media.info.last_segment);
  ASSERT_TRUE(media.info.prft.has_value());
  EXPECT_EQ(media.info.prft->media_time, 456u);
  ASSERT_EQ(media.info.tracks.size(), 1u);
  EXPECT_EQ(media.info.tracks[0].duration, 81u);
  EXPECT_EQ(media.info.mdat_bytes_present, 5u);

  const Bytes two_trafs = testing::LoadRepoFile("tests/fuzz/corpus/iso_bmff/tiny_two_trafs.m4s");
  const MediaParseResult r = ParseMediaSegment(two_trafs);
  ASSERT_EQ(r.error.status, ParseStatus::kOk) << r.error.message;
  EXPECT_TRUE(r.info.has_sidx);
  EXPECT_EQ(r.info.tracks.size(), 2u);
  EXPECT_EQ(r.info.mdat_bytes_present, 7u);
}

}  // namespace
}  // namespace liveorigin::media
