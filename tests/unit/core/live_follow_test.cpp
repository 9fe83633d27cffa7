// LiveEvent's uploads in progress on a manual clock (SPEC §9): when one can
// be followed, which one a segment follows and that the choice holds, and how
// a followed upload that completes clean becomes the sticky choice.
#include <gtest/gtest.h>

#include "fmp4_fixtures.h"
#include "liveorigin/core/live_event.h"
#include "memory_segment_store.h"

namespace liveorigin::core {
namespace {

using namespace std::chrono_literals;
using Outcome = Selection::Outcome;

Body B(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

// The bytes of `seg` up to the end of its first moof.
std::string FirstFragment(const std::string& seg) {
  const size_t moof = testing::RequireBox(seg, {"moof"});
  return seg.substr(0, moof + testing::Be32(seg, moof));
}

class LiveFollowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.id = "ev";
    cfg_.availability_start_time = std::chrono::system_clock::time_point(0s);
    cfg_.start_number = 1;
    cfg_.segment_duration = 1s;  // segment n plays from n−1 s, is available at n s
    cfg_.dvr_window = 60s;
    cfg_.media_template =
        config::SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value();
    cfg_.init_template = config::SegmentTemplate::Compile("$RepresentationID$/init.mp4").value();
    cfg_.pipelines = {{"a", std::nullopt}, {"b", std::nullopt}};
    cfg_.preferred_grace = 500ms;
    cfg_.low_latency = true;
    event_ = std::make_unique<LiveEvent>(std::make_shared<const config::EventConfig>(cfg_),
                                         std::make_shared<storage::MemorySegmentStore>());
    // Both pipelines delivered the init and segment 1: healthy, with a timeline.
    for (const char* p : {"a", "b"}) {
      Put(p, "v/init.mp4", testing::Fixture("dash_video_init.mp4"), T(900ms));
      Put(p, "v/1.m4s", testing::Fixture("dash_video_1.m4s"), T(1000ms));
    }
  }

  static TimePoint T(Millis m) { return TimePoint(m); }
  ObjectAddress Addr(const std::string& path) { return *event_->Classify(path); }

  IngestResult Put(const std::string& pipeline, const std::string& path, std::string body,
                   TimePoint when, bool was_live = false) {
    std::vector<WaitList::Wake> wake;
    IngestMeta meta;
    meta.was_live = was_live;
    auto r = event_->Ingest(Addr(path), pipeline, B(std::move(body)), {}, "", when, &wake, meta);
    for (auto& w : wake) w();
    return r;
  }

  // An upload of segment 2 whose first moof has arrived at `when`.
  uint64_t Start(const std::string& pipeline, const std::string& seg, TimePoint when) {
    auto body = std::make_shared<LiveBody>(LiveBody::Limits{});
    std::vector<LiveBody::Notify> notify;
    EXPECT_TRUE(body->Append(seg, &notify));
    const uint64_t id =
        event_->AddLiveUpload(Addr("v/2.m4s"), pipeline, body, "video/iso.segment", {});
    EXPECT_NE(id, 0u);
    std::vector<WaitList::Wake> wake;
    event_->LiveUploadFollowable(Addr("v/2.m4s"), id, FirstFragment(seg), when, &wake);
    return id;
  }

  config::EventConfig cfg_;
  std::unique_ptr<LiveEvent> event_;
};

TEST_F(LiveFollowTest, UploadIsFollowedOnlyOnceItsFirstMoofArrived) {
  auto body = std::make_shared<LiveBody>(LiveBody::Limits{});
  const uint64_t id = event_->AddLiveUpload(Addr("v/2.m4s"), "a", body, "video/iso.segment", {});
  ASSERT_NE(id, 0u);
  EXPECT_EQ(event_->Follow(Addr("v/2.m4s"), T(1040ms)).outcome, Outcome::kNone);
  EXPECT_EQ(event_->AddLiveUpload(Addr("v/2.m4s"), "a", body, "", {}), 0u)
      << "one upload per pipeline and segment is visible";
  std::vector<WaitList::Wake> wake;
  event_->LiveUploadFollowable(
      Addr("v/2.m4s"), id, FirstFragment(testing::Fixture("dash_video_2.m4s")), T(1050ms), &wake);
  const FollowDecision f = event_->Follow(Addr("v/2.m4s"), T(1060ms));
  ASSERT_EQ(f.outcome, Outcome::kServe);
  EXPECT_EQ(f.pipeline, "a");
  EXPECT_EQ(f.body, body);
  EXPECT_EQ(f.content_type, "video/iso.segment");
  EXPECT_EQ(event_->live_uploads(), 1u);
}

TEST_F(LiveFollowTest, OtherPipelineAfterGraceThenTheChoiceHolds) {
  Start("b", testing::Fixture("dash_video_2.m4s"), T(1040ms));
  const FollowDecision wait = event_->Follow(Addr("v/2.m4s"), T(1100ms));
  EXPECT_EQ(wait.outcome, Outcome::kWait) << "the preferred pipeline is healthy";
  EXPECT_EQ(wait.wait_until, T(1500ms)) << "segment start + preferred_grace";
  const FollowDecision b = event_->Follow(Addr("v/2.m4s"), T(1500ms));
  ASSERT_EQ(b.outcome, Outcome::kServe);
  EXPECT_EQ(b.pipeline, "b");
  // The preferred upload starts late: GETs of the segment keep following b.
  Start("a", testing::Fixture("dash_video_2.m4s"), T(1600ms));
  EXPECT_EQ(event_->Follow(Addr("v/2.m4s"), T(1610ms)).pipeline, "b");
}

TEST_F(LiveFollowTest, FollowedUploadThatEndsLetsTheSegmentChooseAgain) {
  const uint64_t a = Start("a", testing::Fixture("dash_video_2.m4s"), T(1040ms));
  Start("b", testing::Fixture("dash_video_2.m4s"), T(1040ms));
  EXPECT_EQ(event_->Follow(Addr("v/2.m4s"), T(1050ms)).pipeline, "a");
  std::vector<WaitList::Wake> wake;
  event_->RemoveLiveUpload(Addr("v/2.m4s"), a, true, &wake);  // cut off
  const FollowDecision f = event_->Follow(Addr("v/2.m4s"), T(1060ms));
  ASSERT_EQ(f.outcome, Outcome::kServe) << "a failed pipeline is not waited for";
  EXPECT_EQ(f.pipeline, "b");
  // A new upload from a (a retry) is waited for again.
  Start("a", testing::Fixture("dash_video_2.m4s"), T(1070ms));
  EXPECT_EQ(event_->Follow(Addr("v/2.m4s"), T(1080ms)).pipeline, "b") << "the choice holds";
}

TEST_F(LiveFollowTest, DiscontinuousPreferredUploadIsNotFollowedWithinGrace) {
  // tfdt 10 s later than segment 1 ends: does not continue the timeline.
  Start("a", testing::ShiftTfdt(testing::Fixture("dash_video_2.m4s"), 10 * 12800), T(1040ms));
  Start("b", testing::Fixture("dash_video_2.m4s"), T(1040ms));
  EXPECT_EQ(event_->Follow(Addr("v/2.m4s"), T(1100ms)).outcome, Outcome::kWait);
  EXPECT_EQ(event_->Follow(Addr("v/2.m4s"), T(1500ms)).pipeline, "b")
      << "after the grace the clean upload ranks first";
}

TEST_F(LiveFollowTest, FollowedUploadCompletingCleanBecomesSticky) {
  Start("b", testing::Fixture("dash_video_2.m4s"), T(1040ms));
  ASSERT_EQ(event_->Follow(Addr("v/2.m4s"), T(1500ms)).pipeline, "b");
  ASSERT_TRUE(
      Put("b", "v/2.m4s", testing::Fixture("dash_video_2.m4s"), T(2000ms), true).status.ok());
  ASSERT_TRUE(Put("a", "v/2.m4s", testing::Fixture("dash_video_2.m4s"), T(2010ms)).status.ok());
  const Decision d = event_->Resolve(Addr("v/2.m4s"), T(2020ms));
  ASSERT_EQ(d.outcome, Outcome::kServe);
  EXPECT_EQ(d.record.id.pipeline, "b") << "viewers already have b's bytes";
  EXPECT_FALSE(d.persist) << "the sticky choice was made durable as b was stored";
}

TEST_F(LiveFollowTest, UnfollowedCompletionDoesNotBecomeSticky) {
  Start("b", testing::Fixture("dash_video_2.m4s"), T(1040ms));
  // Nobody followed b: the usual selection applies once both are stored.
  ASSERT_TRUE(
      Put("b", "v/2.m4s", testing::Fixture("dash_video_2.m4s"), T(1900ms), true).status.ok());
  ASSERT_TRUE(Put("a", "v/2.m4s", testing::Fixture("dash_video_2.m4s"), T(1950ms)).status.ok());
  EXPECT_EQ(event_->Resolve(Addr("v/2.m4s"), T(2000ms)).record.id.pipeline, "a");
}

}  // namespace
}  // namespace liveorigin::core
