// The stored record format: lossless round trip, and damaged values are a
// Corruption status, never a crash or an unbounded allocation.
#include "record_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace liveorigin::storage {
namespace {

CandidateRecord FullRecord() {
  CandidateRecord r;
  r.id = {"ev", "v1/12345.m4s", "v1", 12345678901234ull, "us-east-1"};
  r.kind = ObjectKind::kSegment;
  r.content_type = "video/iso.segment";
  r.size = 5'000'000'000ull;
  r.etag = "0123456789abcdef0123456789abcdef";
  r.ingest_unix_ms = -1234;  // negative values survive (zigzag)
  r.header_defects = {"slate", "weird-token"};
  r.origin_defects = {"short-duration"};
  r.inspected = true;
  r.last_segment = true;
  r.inspection_note = "track 1 lasts 0.960s — unicode ok";
  r.tracks = {{1, 12800, 1ull << 60, 12800, 25, 512}, {2, 48000, 7, 96256, 94, 1024}};
  r.first_byte_unix_ms = 1700000000001;
  r.object_type = "av";
  r.sha256 = std::string(32, '\xab');
  return r;
}

TEST(RecordCodecTest, CandidateRoundTripsEveryField) {
  const CandidateRecord in = FullRecord();
  auto out = DecodeCandidate(EncodeCandidate(in));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->id.event, in.id.event);
  EXPECT_EQ(out->id.path, in.id.path);
  EXPECT_EQ(out->id.rendition, in.id.rendition);
  EXPECT_EQ(out->id.number, in.id.number);
  EXPECT_EQ(out->id.pipeline, in.id.pipeline);
  EXPECT_EQ(out->kind, in.kind);
  EXPECT_EQ(out->content_type, in.content_type);
  EXPECT_EQ(out->size, in.size);
  EXPECT_EQ(out->etag, in.etag);
  EXPECT_EQ(out->ingest_unix_ms, in.ingest_unix_ms);
  EXPECT_EQ(out->header_defects, in.header_defects);
  EXPECT_EQ(out->origin_defects, in.origin_defects);
  EXPECT_EQ(out->inspected, in.inspected);
  EXPECT_EQ(out->last_segment, in.last_segment);
  EXPECT_EQ(out->inspection_note, in.inspection_note);
  ASSERT_EQ(out->tracks.size(), 2u);
  EXPECT_EQ(out->tracks[0].base_decode_time, 1ull << 60);
  EXPECT_EQ(out->tracks[1].max_sample_duration, 1024u);
  EXPECT_EQ(out->first_byte_unix_ms, in.first_byte_unix_ms);
  EXPECT_EQ(out->object_type, in.object_type);
  EXPECT_EQ(out->sha256, in.sha256);

  CandidateRecord object;
  object.id = {"ev", "manifest.mpd", "", std::nullopt, "b"};
  auto o = DecodeCandidate(EncodeCandidate(object));
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->id.number.has_value());
}

TEST(RecordCodecTest, SelectionRoundTrips) {
  const SelectionRecord in{"ev", "v1", 42, "us-west-2", "etag"};
  auto out = DecodeSelection(EncodeSelection(in));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->number, 42u);
  EXPECT_EQ(out->pipeline, "us-west-2");
  EXPECT_EQ(out->etag, "etag");
}

// A record as version 2 of the format wrote it (before first-byte time,
// object type and digest were kept): stores written then must still open.
TEST(RecordCodecTest, DecodesVersion2RecordsStoredBefore) {
  static constexpr char kV2[] =
      "\x02\x02\x65\x76\x09\x76\x31\x2f\x34\x32\x2e\x6d\x34\x73\x02\x76\x31\x01\x61\x01"
      "\x2a\x00\x11\x76\x69\x64\x65\x6f\x2f\x69\x73\x6f\x2e\x73\x65\x67\x6d\x65\x6e\x74"
      "\xd2\x09\x20\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x61\x62\x63\x64\x65\x66\x30"
      "\x31\x32\x33\x34\x35\x36\x37\x38\x39\x61\x62\x63\x64\x65\x66\xf6\xa1\xab\xfe\xf9"
      "\x62\x01\x05\x73\x6c\x61\x74\x65\x00\x01\x00\x01\x01\x80\x64\x80\xe8\x20\x80\x64"
      "\x19\x80\x04";
  auto r = DecodeCandidate(std::string_view(kV2, sizeof kV2 - 1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id.path, "v1/42.m4s");
  EXPECT_EQ(r->id.number, 42u);
  EXPECT_EQ(r->size, 1234u);
  EXPECT_EQ(r->ingest_unix_ms, 1700000000123);
  EXPECT_EQ(r->header_defects, std::vector<std::string>{"slate"});
  ASSERT_EQ(r->tracks.size(), 1u);
  EXPECT_EQ(r->tracks[0].base_decode_time, 537600u);
  EXPECT_EQ(r->first_byte_unix_ms, 0) << "unknown: readers fall back to ingest time";
  EXPECT_EQ(r->object_type, "");
  EXPECT_EQ(r->sha256, "");
  // Re-encoding writes the current version, which decodes to the same record.
  auto again = DecodeCandidate(EncodeCandidate(*r));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->etag, r->etag);
}

TEST(RecordCodecTest, OperatorRecordsRoundTripAndRefuseDamage) {
  const OperatorActor who{1700000000555, "node-a", "10.1.2.3:4567", "sha256:abcdef012345"};
  const PipelineControlRecord control{"ev", "us-east-1", true, who};
  auto c = DecodePipelineControl(EncodePipelineControl(control));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pipeline, "us-east-1");
  EXPECT_TRUE(c->disabled);
  EXPECT_EQ(c->changed.remote, who.remote);
  EXPECT_EQ(c->changed.at_unix_ms, who.at_unix_ms);

  ForcedSelectionRecord forced;
  forced.event = "ev";
  forced.path = "v1/7.m4s";
  forced.rendition = "v1";
  forced.number = 7;
  forced.pipeline = "b";
  forced.etag = "new";
  forced.previous_pipeline = "a";
  forced.previous_etag = "old";
  forced.changed = who;
  auto f = DecodeForcedSelection(EncodeForcedSelection(forced));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->number, 7u);
  EXPECT_EQ(f->previous_etag, "old");
  EXPECT_EQ(f->changed.token_id, who.token_id);

  AuditRecord audit;
  audit.event = "ev";
  audit.sequence = 99;
  audit.action = "select";
  audit.pipeline = "b";
  audit.path = "v1/7.m4s";
  audit.old_etag = "old";
  audit.new_etag = "new";
  audit.actor = who;
  auto a = DecodeAudit(EncodeAudit(audit));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->sequence, 99u);
  EXPECT_EQ(a->actor.node, "node-a");

  for (const std::string& bytes :
       {EncodePipelineControl(control), EncodeForcedSelection(forced), EncodeAudit(audit)}) {
    for (size_t n = 0; n < bytes.size(); ++n) {
      const std::string_view prefix = std::string_view(bytes).substr(0, n);
      EXPECT_FALSE(DecodePipelineControl(prefix).ok() && n < bytes.size());
      EXPECT_FALSE(DecodeForcedSelection(prefix).ok());
      EXPECT_FALSE(DecodeAudit(prefix).ok());
    }
  }
}

TEST(RecordCodecTest, EveryTruncationAndExtraByteIsCorruption) {
  const std::string bytes = EncodeCandidate(FullRecord());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodeCandidate(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  }
  EXPECT_FALSE(DecodeCandidate(bytes + "x").ok());
  EXPECT_FALSE(DecodeSelection("").ok());
  EXPECT_FALSE(DecodeCandidate("{\"v\":1}").ok()) << "unknown version";
}

TEST(RecordCodecTest, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  const std::string valid = EncodeCandidate(FullRecord());
  for (int i = 0; i < 20000; ++i) {
    std::string s = valid;
    for (int k = 0; k < 1 + i % 4; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    (void)DecodeCandidate(s);
    std::string noise(rng() % 64, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    (void)DecodeCandidate(noise);
    (void)DecodeSelection(noise);
  }
  // A huge declared list length with few bytes left is refused, not allocated.
  std::string huge(1, '\x02');
  huge += std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 9);
  EXPECT_FALSE(DecodeCandidate(huge).ok());
}

}  // namespace
}  // namespace liveorigin::storage
