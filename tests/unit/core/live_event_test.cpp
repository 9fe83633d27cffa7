// LiveEvent on real ffmpeg fixtures: inspection tags, selection across
// pipelines, stickiness and its persistence.
#include "liveorigin/core/live_event.h"
#include "fmp4_fixtures.h"
#include "liveorigin/admin/event_views.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "memory_segment_store.h"

namespace liveorigin::core {
namespace {

using testing::CutSamples;
using testing::Fixture;
using testing::MakeSlate;
using testing::ShiftTfdt;

using namespace std::chrono_literals;
using storage::ObjectKind;

Body B(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

class LiveEventTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.id = "ev";
    cfg_.availability_start_time = std::chrono::system_clock::time_point(0s);
    cfg_.start_number = 1;
    cfg_.segment_duration = 1s;
    cfg_.dvr_window = 60s;
    cfg_.media_template =
        config::SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value();
    cfg_.init_template = config::SegmentTemplate::Compile("$RepresentationID$/init.mp4").value();
    cfg_.pipelines = {{"a", std::nullopt}, {"b", std::nullopt}};
    cfg_.preferred_grace = 500ms;
    store_ = std::make_shared<storage::MemorySegmentStore>();
    event_ = std::make_unique<LiveEvent>(std::make_shared<const config::EventConfig>(cfg_), store_);
  }

  // Segment n is available at n seconds.
  IngestResult Put(const std::string& pipeline, const std::string& path, std::string body,
                   TimePoint when, std::vector<std::string> header_defects = {}) {
    auto addr = event_->Classify(path);
    EXPECT_TRUE(addr.has_value()) << path;
    std::vector<WaitList::Wake> wake;
    auto result = event_->Ingest(*addr, pipeline, B(std::move(body)), std::move(header_defects), "",
                                 when, &wake);
    for (auto& w : wake) w();
    return result;
  }
  void PutInits(TimePoint when) {
    for (const char* p : {"a", "b"}) {
      ASSERT_TRUE(Put(p, "v/init.mp4", Fixture("dash_video_init.mp4"), when).status.ok());
    }
  }
  // Resolves as a GET does: a new sticky choice is persisted before serving.
  static Decision ResolveOn(LiveEvent& event, const std::string& path, TimePoint now) {
    Decision d = event.Resolve(*event.Classify(path), now);
    if (d.persist) {
      std::vector<WaitList::Wake> wake;
      EXPECT_TRUE(event.PersistSticky(*d.persist, &wake).ok());
      for (auto& w : wake) w();
    }
    return d;
  }
  Decision Resolve(const std::string& path, TimePoint now) { return ResolveOn(*event_, path, now); }
  nlohmann::json StatusJson(TimePoint now) {
    return admin::EventStatusJson(event_->View(now), now);
  }
  nlohmann::json ObjectJson(const std::string& path, TimePoint now) {
    return admin::ObjectJson(cfg_, event_->ViewObject(*event_->Classify(path), now));
  }

  config::EventConfig cfg_;
  std::shared_ptr<storage::MemorySegmentStore> store_;
  std::unique_ptr<LiveEvent> event_;
};

TEST_F(LiveEventTest, ClassifiesSegmentsInitsAndOtherObjects) {
  auto seg = event_->Classify("v1/42.m4s");
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->kind, ObjectKind::kSegment);
  EXPECT_EQ(seg->rendition, "v1");
  EXPECT_EQ(seg->number, 42u);
  EXPECT_FALSE(event_->Classify("v1/042.m4s")) << "non-canonical number";
  EXPECT_EQ(event_->Classify("v1/init.mp4")->kind, ObjectKind::kInit);
  EXPECT_EQ(event_->Classify("manifest.mpd")->kind, ObjectKind::kOther);
}

TEST_F(LiveEventTest, CleanSegmentIsInspectedWithoutDefects) {
  PutInits(TimePoint(1s));
  auto r = Put("a", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.outcome, IngestOutcome::kCreated);
  EXPECT_TRUE(r.record.AllDefects().empty()) << r.record.inspection_note;
  ASSERT_EQ(r.record.tracks.size(), 1u);
  EXPECT_EQ(r.record.tracks[0].timescale, 12800u);
  EXPECT_EQ(r.record.tracks[0].duration, 12800u);
  EXPECT_EQ(r.record.tracks[0].sample_count, 25u);
  auto again = Put("a", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s));
  EXPECT_EQ(again.outcome, IngestOutcome::kIdentical);
}

TEST_F(LiveEventTest, TruncatedSegmentIsCorruptAndTheCleanOneIsServed) {
  PutInits(TimePoint(1s));
  const std::string seg = Fixture("dash_video_1.m4s");
  // Segment 1 is available at 1s; the preferred pipeline's grace ends at 1.5s.
  auto bad = Put("a", "v/1.m4s", seg.substr(0, seg.size() - 700), TimePoint(1s) + 10ms);
  EXPECT_EQ(bad.record.origin_defects, std::vector<std::string>{"corrupt"});
  ASSERT_TRUE(Put("b", "v/1.m4s", seg, TimePoint(1s) + 20ms).status.ok());
  auto during_grace = Resolve("v/1.m4s", TimePoint(1s) + 100ms);
  EXPECT_EQ(during_grace.outcome, Selection::Outcome::kWait);
  auto after = Resolve("v/1.m4s", TimePoint(1s) + 600ms);
  ASSERT_EQ(after.outcome, Selection::Outcome::kServe);
  EXPECT_EQ(after.record.id.pipeline, "b");
  const auto view = ObjectJson("v/1.m4s", TimePoint(3s));
  EXPECT_EQ(view["selected"], "b");
  EXPECT_EQ(view["candidates"][0]["pipeline"], "a");
  EXPECT_EQ(view["candidates"][0]["defects"][0], "corrupt");
  EXPECT_NE(view["candidates"][0]["inspection"]["note"].get<std::string>().find("mdat"),
            std::string::npos)
      << view.dump(2);
}

TEST_F(LiveEventTest, CutSamplesAreShortDuration) {
  PutInits(TimePoint(1s));
  auto r = Put("a", "v/1.m4s", CutSamples(Fixture("dash_video_1.m4s")), TimePoint(2s));
  EXPECT_EQ(r.record.origin_defects, std::vector<std::string>{"short-duration"})
      << r.record.inspection_note;
}

TEST_F(LiveEventTest, SlateBrandIsTagged) {
  PutInits(TimePoint(1s));
  auto r = Put("a", "v/1.m4s", MakeSlate(Fixture("dash_video_1.m4s")), TimePoint(2s));
  EXPECT_EQ(r.record.origin_defects, std::vector<std::string>{"slate"});
}

TEST_F(LiveEventTest, HeaderDefectsAreKeptAndRanked) {
  PutInits(TimePoint(1s));
  Put("a", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s), {"decode-error"});
  Put("b", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s), {"slate"});
  auto res = Resolve("v/1.m4s", TimePoint(5s));
  ASSERT_EQ(res.outcome, Selection::Outcome::kServe);
  EXPECT_EQ(res.record.id.pipeline, "b") << "slate is milder than decode-error";
  EXPECT_EQ(res.record.header_defects, std::vector<std::string>{"slate"});
}

TEST_F(LiveEventTest, OffsetTimelineIsADiscontinuityAndNeverSwitchedTo) {
  PutInits(TimePoint(1s));
  Put("a", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s));
  Put("b", "v/1.m4s", ShiftTfdt(Fixture("dash_video_1.m4s"), 6400), TimePoint(2s));
  EXPECT_EQ(Resolve("v/1.m4s", TimePoint(3s)).record.id.pipeline, "a");
  // Segment 2: A continues; B's offset timeline does not continue what viewers
  // saw (A's segment 1).
  auto a2 = Put("a", "v/2.m4s", Fixture("dash_video_2.m4s"), TimePoint(3s));
  auto b2 = Put("b", "v/2.m4s", ShiftTfdt(Fixture("dash_video_2.m4s"), 6400), TimePoint(3s));
  EXPECT_TRUE(a2.record.AllDefects().empty()) << a2.record.inspection_note;
  EXPECT_EQ(b2.record.origin_defects, std::vector<std::string>{"timing-discontinuity"})
      << b2.record.inspection_note;
  const auto status = StatusJson(TimePoint(4s));
  ASSERT_FALSE(status["alignment"].empty());
  EXPECT_FALSE(status["alignment"][0]["aligned"].get<bool>()) << status.dump(2);
  EXPECT_NEAR(status["alignment"][0]["offset_seconds"].get<double>(), -0.5, 1e-6);
}

TEST_F(LiveEventTest, WithoutSelectionTheSamePipelinesPreviousIsTheReference) {
  PutInits(TimePoint(1s));
  // Only B delivers segment 1 (shifted) and 2 (shifted consistently): B is continuous with itself.
  Put("b", "v/1.m4s", ShiftTfdt(Fixture("dash_video_1.m4s"), 6400), TimePoint(2s));
  auto b2 = Put("b", "v/2.m4s", ShiftTfdt(Fixture("dash_video_2.m4s"), 6400), TimePoint(3s));
  EXPECT_TRUE(b2.record.AllDefects().empty()) << b2.record.inspection_note;
}

TEST_F(LiveEventTest, CleanChoiceIsStickyAndSurvivesRestart) {
  PutInits(TimePoint(1s));
  Put("b", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s));
  // A is stalled (never delivered a segment): B is served at once and sticks.
  auto first = Resolve("v/1.m4s", TimePoint(2s));
  ASSERT_EQ(first.outcome, Selection::Outcome::kServe);
  EXPECT_EQ(first.record.id.pipeline, "b");
  Put("a", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s) + 10ms);
  EXPECT_EQ(Resolve("v/1.m4s", TimePoint(4s)).record.id.pipeline, "b") << "sticky";

  // A new instance rebuilt from the same store keeps the choice.
  LiveEvent rebuilt(std::make_shared<const config::EventConfig>(cfg_), store_);
  ASSERT_TRUE(store_
                  ->ForEachCandidate([&](storage::CandidateRecord&& r) {
                    Body init;
                    if (r.kind == ObjectKind::kInit) init = *store_->GetBody(r.id);
                    rebuilt.Restore(std::move(r), init);
                  })
                  .ok());
  ASSERT_TRUE(
      store_->ForEachSelection([&](storage::SelectionRecord&& s) { rebuilt.RestoreSelection(s); })
          .ok());
  EXPECT_EQ(ResolveOn(rebuilt, "v/1.m4s", TimePoint(5s)).record.id.pipeline, "b");
}

TEST_F(LiveEventTest, DefectiveChoiceIsReplacedWhenABetterOneArrives) {
  PutInits(TimePoint(1s));
  Put("a", "v/1.m4s", CutSamples(Fixture("dash_video_1.m4s")), TimePoint(2s));
  EXPECT_EQ(Resolve("v/1.m4s", TimePoint(3s)).record.id.pipeline, "a");
  Put("b", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(3s));
  EXPECT_EQ(Resolve("v/1.m4s", TimePoint(3s) + 1ms).record.id.pipeline, "b");
}

TEST_F(LiveEventTest, WaitersAreWokenByTheArrival) {
  int woken = 0;
  event_->AddWaiter("v", 1, [&] { ++woken; });
  event_->AddWaiter("v", 1, [&] { ++woken; });
  const uint64_t removed = event_->AddWaiter("v", 1, [&] { woken += 100; });
  event_->RemoveWaiter("v", 1, removed);
  event_->AddWaiter("v", 2, [&] { woken += 1000; });
  Put("a", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s));
  EXPECT_EQ(woken, 2);
}

TEST_F(LiveEventTest, RetentionForgetsOnlyWhatAgedOut) {
  PutInits(TimePoint(1s));
  Put("a", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s));
  Put("a", "v/2.m4s", Fixture("dash_video_2.m4s"), TimePoint(3s));
  Put("a", "old.vtt", "WEBVTT", TimePoint(2s));
  Put("a", "manifest.mpd", "<MPD/>", TimePoint(2s));
  Put("a", "manifest.mpd", "<MPD v2/>", TimePoint(50s));  // rewritten: stays
  EXPECT_TRUE(event_->ForgetSegmentsBefore(1).empty()) << "nothing below 1: no store write";
  EXPECT_TRUE(event_->ForgetSegmentsBefore(2, /*min_batch=*/2).empty())
      << "one aged segment is below the batch: no store write yet";
  EXPECT_EQ(event_->ForgetSegmentsBefore(2), std::vector<std::string>{"v"});
  EXPECT_TRUE(event_->ForgetSegmentsBefore(2).empty()) << "already forgotten";
  EXPECT_FALSE(event_->HasAnyCandidate(*event_->Classify("v/1.m4s")));
  EXPECT_TRUE(event_->HasAnyCandidate(*event_->Classify("v/2.m4s")));
  EXPECT_EQ(event_->ForgetObjectsOlderThan(TimePoint(40s), /*include_init=*/false),
            std::vector<std::string>{"old.vtt"});
  EXPECT_TRUE(event_->HasAnyCandidate(*event_->Classify("v/init.mp4"))) << "inits are kept";
  EXPECT_EQ(event_->ForgetObjectsOlderThan(TimePoint(40s), /*include_init=*/true),
            std::vector<std::string>{"v/init.mp4"});
}

TEST_F(LiveEventTest, PipelineHealthFollowsSegmentPuts) {
  EXPECT_FALSE(event_->PipelineHealthy("a", TimePoint(2s)));
  Put("a", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s));
  EXPECT_TRUE(event_->PipelineHealthy("a", TimePoint(3s)));
  EXPECT_TRUE(event_->PipelineHealthy("a", TimePoint(4s)));
  EXPECT_FALSE(event_->PipelineHealthy("a", TimePoint(4s) + 1ms)) << "stalled after 2·d";
  const auto status = StatusJson(TimePoint(5s));
  EXPECT_EQ(status["pipelines"][0]["state"], "stalled");
  EXPECT_EQ(status["pipelines"][0]["last_number"], 1);
}

}  // namespace
}  // namespace liveorigin::core

namespace liveorigin::core {
namespace {

std::string Box(const std::string& type, const std::string& payload) {
  std::string b(4, '\0');
  const uint32_t size = static_cast<uint32_t>(payload.size() + 8);
  b[0] = static_cast<char>(size >> 24);
  b[1] = static_cast<char>(size >> 16);
  b[2] = static_cast<char>(size >> 8);
  b[3] = static_cast<char>(size);
  return b + type + payload;
}

// Regression: segments that parse cleanly but carry no sample of the init's
// tracks were served as clean when they came from the preferred pipeline.
TEST_F(LiveEventTest, SegmentsWithoutSamplesAreCorrupt) {
  PutInits(TimePoint(1s));
  const std::string styp = Box("styp", "msdh" + std::string(4, '\0') + "msdhmsix");
  const std::string mfhd = Box("mfhd", std::string(8, '\0'));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"free boxes only", Box("free", std::string(32, 'x')) + Box("free", "")},
      {"styp alone", styp},
      {"empty moof and mdat", styp + Box("moof", mfhd) + Box("mdat", "")},
      {"nested empty boxes", Box("moof", Box("traf", "")) + Box("skip", Box("free", ""))},
  };
  uint64_t n = 1;
  for (const auto& [name, body] : cases) {
    auto r = Put("a", "v/" + std::to_string(n) + ".m4s", body,
                 TimePoint(1s * static_cast<int64_t>(n)) + 10ms);
    EXPECT_EQ(r.record.origin_defects, std::vector<std::string>{"corrupt"})
        << name << ": " << r.record.inspection_note;
    ++n;
  }
}

TEST_F(LiveEventTest, ATrackOfTheInitMissingFromTheSegmentIsADefect) {
  // The muxed init declares video and audio; the video-only segment lacks audio.
  ASSERT_TRUE(Put("a", "v/init.mp4", Fixture("hls_muxed_init.mp4"), TimePoint(1s)).status.ok());
  auto r = Put("a", "v/1.m4s", Fixture("dash_video_1.m4s"), TimePoint(2s));
  EXPECT_EQ(r.record.origin_defects, std::vector<std::string>{"short-duration"})
      << r.record.inspection_note;
  EXPECT_NE(r.record.inspection_note.find("zero duration"), std::string::npos)
      << r.record.inspection_note;
}

}  // namespace
}  // namespace liveorigin::core
