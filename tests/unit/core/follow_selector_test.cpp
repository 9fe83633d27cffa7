// The pure choice of the upload in progress a segment's GETs follow (SPEC §9),
// on a manual clock: `now` is an input.
#include "liveorigin/core/follow_selector.h"

#include <gtest/gtest.h>

namespace liveorigin::core {
namespace {

using namespace std::chrono_literals;
using Outcome = Selection::Outcome;

constexpr TimePoint kStart{1000s};  // the segment's media starts here

PipelineView Healthy(std::optional<std::vector<std::string>> upload) {
  PipelineView v;
  v.healthy = true;
  if (upload) v.candidate = CandidateView{*upload};
  return v;
}

PipelineView Stalled(std::optional<std::vector<std::string>> upload) {
  PipelineView v = Healthy(std::move(upload));
  v.healthy = false;
  return v;
}

FollowInput Input(std::vector<PipelineView> pipelines, Millis since_start) {
  FollowInput in;
  in.pipelines = std::move(pipelines);
  in.segment_start = kStart;
  in.now = kStart + since_start;
  in.preferred_grace = 500ms;
  return in;
}

const std::vector<std::string> kClean{};

TEST(SelectFollowTest, NothingStartedIsNone) {
  EXPECT_EQ(SelectFollow(Input({Healthy(std::nullopt), Healthy(std::nullopt)}, 40ms)).outcome,
            Outcome::kNone);
}

TEST(SelectFollowTest, PreferredUploadIsFollowedAsSoonAsItsFirstMoofArrived) {
  const Selection s = SelectFollow(Input({Healthy(kClean), Healthy(std::nullopt)}, 40ms));
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 0u);
}

TEST(SelectFollowTest, OtherUploadWaitsForThePreferredUntilTheGraceEnds) {
  const Selection s = SelectFollow(Input({Healthy(std::nullopt), Healthy(kClean)}, 100ms));
  EXPECT_EQ(s.outcome, Outcome::kWait);
  EXPECT_EQ(s.wait_until, kStart + 500ms);
  const Selection after = SelectFollow(Input({Healthy(std::nullopt), Healthy(kClean)}, 500ms));
  EXPECT_EQ(after.outcome, Outcome::kServe);
  EXPECT_EQ(after.pipeline, 1u);
}

TEST(SelectFollowTest, StalledPreferredPipelineIsNotWaitedFor) {
  const Selection s = SelectFollow(Input({Stalled(std::nullopt), Healthy(kClean)}, 40ms));
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 1u);
}

TEST(SelectFollowTest, NoHealthyPipelineFollowsTheBestStartedUpload) {
  const Selection s = SelectFollow(Input({Stalled(kClean), Stalled(kClean)}, 0ms));
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 0u);
}

TEST(SelectFollowTest, DiscontinuousPreferredUploadIsNotFollowedDuringGrace) {
  const std::vector<std::string> jump{"timing-discontinuity"};
  const Selection s = SelectFollow(Input({Healthy(jump), Healthy(kClean)}, 40ms));
  EXPECT_EQ(s.outcome, Outcome::kWait);
  // After the grace, ranked as in §5.1: the clean upload wins over priority.
  const Selection after = SelectFollow(Input({Healthy(jump), Healthy(kClean)}, 600ms));
  EXPECT_EQ(after.outcome, Outcome::kServe);
  EXPECT_EQ(after.pipeline, 1u);
}

TEST(SelectFollowTest, MilderDefectRanksFirstAfterGrace) {
  const Selection s = SelectFollow(Input({Healthy(std::vector<std::string>{"timing-discontinuity"}),
                                          Healthy(std::vector<std::string>{"slate"})},
                                         600ms));
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 1u);
}

TEST(SelectFollowTest, TheChoiceIsKeptWhileItsUploadGoesOn) {
  FollowInput in = Input({Healthy(kClean), Healthy(kClean)}, 40ms);
  in.chosen = 1;  // chosen before the preferred upload became followable
  const Selection s = SelectFollow(in);
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 1u);
  in.pipelines[1].candidate.reset();  // that upload failed: choose again
  const Selection again = SelectFollow(in);
  EXPECT_EQ(again.outcome, Outcome::kServe);
  EXPECT_EQ(again.pipeline, 0u);
}

TEST(SelectFollowTest, DisabledPipelineIsNeverFollowed) {
  FollowInput in = Input({Healthy(kClean), Healthy(kClean)}, 600ms);
  in.pipelines[0].disabled = true;
  const Selection s = SelectFollow(in);
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 1u);
  in.pipelines[1].disabled = true;
  EXPECT_EQ(SelectFollow(in).outcome, Outcome::kNone);
}

TEST(SelectFollowTest, SameInputsSameChoice) {
  const FollowInput in = Input({Healthy(std::nullopt), Healthy(kClean), Healthy(kClean)}, 700ms);
  const Selection a = SelectFollow(in), b = SelectFollow(in);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.pipeline, b.pipeline);
  EXPECT_EQ(a.pipeline, 1u);
}

}  // namespace
}  // namespace liveorigin::core
