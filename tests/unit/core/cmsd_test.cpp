// CMSD (CTA-5006) values: which keys each kind of object gets, their
// structured-field form, and the relative `nor` reference.
#include "liveorigin/core/cmsd.h"

#include <gtest/gtest.h>

#include "liveorigin/common/structured_fields.h"

namespace liveorigin::core {
namespace {

using storage::CandidateRecord;
using storage::ObjectKind;

config::EventConfig Event(const char* media = "$RepresentationID$/$Number$.m4s") {
  config::EventConfig e;
  e.id = "ev";
  e.segment_duration = std::chrono::milliseconds(2000);
  e.media_template = config::SegmentTemplate::Compile(media).value();
  return e;
}

CandidateRecord Segment(uint64_t n, uint64_t size) {
  CandidateRecord r;
  r.id = {"ev", "v1/" + std::to_string(n) + ".m4s", "v1", n, "a"};
  r.kind = ObjectKind::kSegment;
  r.size = size;
  r.ingest_unix_ms = 1700000002500;
  r.first_byte_unix_ms = 1700000000100;
  r.object_type = "av";
  r.content_type = "video/iso.segment";
  return r;
}

TEST(CmsdTest, SegmentGetsEveryKeyInKeyOrder) {
  const std::string v = SerializeCmsdStatic(CmsdStaticFor(Segment(42, 500000), Event(), "node-a"));
  EXPECT_EQ(v, R"(at=1700000000100,br=2000,d=2000,n="node-a",nor="43.m4s",ot=av,st=l)");
  auto parsed = sf::ParseDictionary(v);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->size(), 7u);
}

TEST(CmsdTest, UploadStillArrivingHasNoBitrateNorObjectType) {
  const CandidateRecord seg = Segment(42, 0);
  EXPECT_EQ(SerializeCmsdStatic(CmsdStaticForUpload(seg.id, ObjectKind::kSegment, Event(), "node-a",
                                                    1700000000100)),
            R"(at=1700000000100,d=2000,n="node-a",nor="43.m4s",st=l)");
  // An LL-HLS part (not a numbered segment) keeps only what it has.
  storage::CandidateId part{"ev", "v1/42.1.m4s", "", std::nullopt, "a"};
  EXPECT_EQ(SerializeCmsdStatic(
                CmsdStaticForUpload(part, ObjectKind::kOther, Event(), "node-a", 1700000000100)),
            R"(at=1700000000100,n="node-a",st=l)");
}

TEST(CmsdTest, AtFallsBackToIngestTimeForOldRecords) {
  CandidateRecord r = Segment(1, 1000);
  r.first_byte_unix_ms = 0;  // stored before the first byte was recorded
  EXPECT_EQ(CmsdStaticFor(r, Event(), "n").availability_ms, r.ingest_unix_ms);
}

TEST(CmsdTest, BitrateIsRoundedKilobitsPerSecond) {
  // 2 s; 250 bytes = 2000 bits = 1 kbit/s; 437 bytes = 1.748 kbit/s.
  EXPECT_EQ(CmsdStaticFor(Segment(1, 250), Event(), "n").bitrate_kbps, 1);
  EXPECT_EQ(CmsdStaticFor(Segment(1, 437), Event(), "n").bitrate_kbps, 2);
}

TEST(CmsdTest, LastSegmentHasNoNextObject) {
  CandidateRecord r = Segment(9, 100);
  r.last_segment = true;
  EXPECT_EQ(CmsdStaticFor(r, Event(), "n").next_object, "");
}

TEST(CmsdTest, NextObjectFollowsTheTemplatePadding) {
  CandidateRecord r = Segment(99999, 100);
  r.id.path = "chunk-streamv1-99999.m4s";
  EXPECT_EQ(
      CmsdStaticFor(r, Event("chunk-stream$RepresentationID$-$Number%05d$.m4s"), "n").next_object,
      "chunk-streamv1-100000.m4s");
}

TEST(CmsdTest, InitManifestAndCaptionTypes) {
  CandidateRecord init;
  init.id = {"ev", "v1/init.mp4", "v1", std::nullopt, "a"};
  init.kind = ObjectKind::kInit;
  init.first_byte_unix_ms = 5;
  EXPECT_EQ(SerializeCmsdStatic(CmsdStaticFor(init, Event(), "node")),
            R"(at=5,n="node",ot=i,st=l)");

  CandidateRecord mpd;
  mpd.id = {"ev", "manifest.mpd", "", std::nullopt, "a"};
  mpd.kind = ObjectKind::kOther;
  mpd.first_byte_unix_ms = 5;
  EXPECT_EQ(CmsdStaticFor(mpd, Event(), "node").object_type, "m");

  CandidateRecord vtt = mpd;
  vtt.id.path = "subs/en.vtt";
  vtt.content_type = "text/vtt";
  EXPECT_EQ(CmsdStaticFor(vtt, Event(), "node").object_type, "c");

  CandidateRecord other = mpd;
  other.id.path = "thumbs/1.jpg";
  other.content_type = "image/jpeg";
  EXPECT_EQ(SerializeCmsdStatic(CmsdStaticFor(other, Event(), "node")), R"(at=5,n="node",st=l)");
}

TEST(CmsdTest, MediaObjectTypeFromTheInitHandlers) {
  media::InitSegmentInfo init;
  init.tracks = {{1, media::HandlerType::kVideo}, {2, media::HandlerType::kAudio}};
  CandidateRecord r;
  r.content_type = "video/iso.segment";
  r.tracks = {{1}, {2}};
  EXPECT_EQ(MediaObjectType(r, &init), "av");
  r.tracks = {{2}};
  EXPECT_EQ(MediaObjectType(r, &init), "a");
  r.tracks = {{1}};
  EXPECT_EQ(MediaObjectType(r, &init), "v");
  EXPECT_EQ(MediaObjectType(r, nullptr), "") << "no init: unknown for a generic .m4s";
  r.content_type = "audio/mp4";
  EXPECT_EQ(MediaObjectType(r, nullptr), "a");
}

TEST(CmsdTest, RelativeReferences) {
  EXPECT_EQ(RelativeReference("v/42.m4s", "v/43.m4s"), "43.m4s");
  EXPECT_EQ(RelativeReference("42.m4s", "43.m4s"), "43.m4s");
  EXPECT_EQ(RelativeReference("a/1/x.m4s", "a/2/x.m4s"), "../2/x.m4s");
  EXPECT_EQ(RelativeReference("a/b/1.m4s", "c/2.m4s"), "../../c/2.m4s");
  EXPECT_EQ(RelativeReference("v/1.m4s", "v/seg 2\".m4s"), "seg%202%22.m4s");
  EXPECT_EQ(RelativeReference("x/1.m4s", "x/a:2.m4s"), "./a:2.m4s");
}

TEST(CmsdTest, DynamicValueIsAListMemberWithParameters) {
  const std::string prefix = CmsdDynamicPrefix("node-a");
  EXPECT_EQ(prefix, "\"node-a\"");
  EXPECT_EQ(SerializeCmsdDynamic(prefix, 12, false), R"("node-a";rd=12)");
  const std::string shedding = SerializeCmsdDynamic(prefix, 0, true);
  EXPECT_EQ(shedding, R"("node-a";rd=0;du)");
  auto parsed = sf::ParseList(shedding);
  ASSERT_TRUE(parsed.ok());
  const auto& item = std::get<sf::Item>((*parsed)[0]);
  EXPECT_EQ(std::get<std::string>(item.value), "node-a");
  EXPECT_EQ(item.params[1].first, "du");
}

}  // namespace
}  // namespace liveorigin::core
