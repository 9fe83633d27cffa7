// The selector with the operator controls of SPEC §12, as plain inputs:
// disabled pipelines are never chosen for a new answer nor waited for, a
// sticky answer stays, and a forced pipeline wins over everything.
#include <gtest/gtest.h>

#include "liveorigin/core/candidate_selector.h"
#include "liveorigin/core/event_controls.h"

namespace liveorigin::core {
namespace {

using namespace std::chrono_literals;
using Outcome = Selection::Outcome;

PipelineView Clean(bool healthy = true) { return PipelineView{healthy, CandidateView{}, false}; }
PipelineView Defective(std::string defect) {
  return PipelineView{true, CandidateView{{std::move(defect)}}, false};
}
PipelineView Missing(bool healthy = true) { return PipelineView{healthy, std::nullopt, false}; }
PipelineView Disabled(PipelineView v) {
  v.disabled = true;
  return v;
}

SegmentSelectionInput Input(std::vector<PipelineView> pipelines, Millis after_availability) {
  SegmentSelectionInput in;
  in.availability_time = TimePoint(1000s);
  in.now = in.availability_time + after_availability;
  in.preferred_grace = 500ms;
  in.pipelines = std::move(pipelines);
  return in;
}

TEST(OperatorSelectionTest, DisabledPreferredPipelineIsNeverChosen) {
  const Selection s = SelectSegment(Input({Disabled(Clean()), Clean()}, 1s));
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 1u);
}

TEST(OperatorSelectionTest, DisabledPreferredPipelineIsNotWaitedForDuringGrace) {
  // Without the control, grace would hold the answer for pipeline 0.
  const Selection held = SelectSegment(Input({Missing(), Clean()}, 100ms));
  ASSERT_EQ(held.outcome, Outcome::kWait);
  const Selection s = SelectSegment(Input({Disabled(Missing()), Clean()}, 100ms));
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 1u);
}

TEST(OperatorSelectionTest, ACleanDisabledCandidateLosesToADefectiveEnabledOne) {
  const Selection s = SelectSegment(Input({Disabled(Clean()), Defective("slate")}, 1s));
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 1u);
}

TEST(OperatorSelectionTest, OnlyDisabledCandidatesMeansNothingToServe) {
  const Selection s = SelectSegment(Input({Disabled(Clean()), Missing()}, 1s));
  EXPECT_EQ(s.outcome, Outcome::kNone);
  EXPECT_NE(s.reason.find("disabled"), std::string::npos) << s.reason;
}

TEST(OperatorSelectionTest, StickyAnswerOfADisabledPipelineStays) {
  auto in = Input({Disabled(Clean()), Clean()}, 1s);
  in.sticky = 0;
  const Selection s = SelectSegment(in);
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 0u);
}

TEST(OperatorSelectionTest, ForcedPipelineReplacesTheStickyChoice) {
  auto in = Input({Clean(), Clean()}, 1s);
  in.sticky = 0;
  in.forced = 1;
  const Selection s = SelectSegment(in);
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 1u);
  EXPECT_EQ(s.reason, "forced by an operator");
}

TEST(OperatorSelectionTest, ForcedPipelineWinsOverDefectsGraceAndItsOwnDisabling) {
  auto in = Input({Clean(), Disabled(Defective("corrupt"))}, 0ms);  // inside grace
  in.forced = 1;
  const Selection s = SelectSegment(in);
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 1u);
}

TEST(OperatorSelectionTest, ForcedPipelineWithoutCandidateFallsBackToTheRules) {
  auto in = Input({Clean(), Missing()}, 1s);
  in.forced = 1;
  const Selection s = SelectSegment(in);
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 0u);
}

TEST(OperatorSelectionTest, ObjectsSkipDisabledPipelinesAndHonourForced) {
  EXPECT_EQ(SelectObject({Disabled(Clean()), Clean()}).pipeline, 1u);
  // A stalled enabled pipeline still beats a disabled healthy one.
  EXPECT_EQ(SelectObject({Disabled(Clean()), Clean(/*healthy=*/false)}).pipeline, 1u);
  EXPECT_EQ(SelectObject({Disabled(Clean()), Missing()}).outcome, Outcome::kNone);
  EXPECT_EQ(SelectObject({Clean(), Clean()}, 1).pipeline, 1u);
  EXPECT_EQ(SelectObject({Clean(), Disabled(Clean())}, 1).pipeline, 1u);
  EXPECT_EQ(SelectObject({Clean(), Missing()}, 1).pipeline, 0u);
}

TEST(EventControlsTest, ApplyControlsMarksDisabledAndFindsTheForcedIndex) {
  EventControlState state;
  state.disabled = {"a"};
  storage::ForcedSelectionRecord f;
  f.path = "v/5.m4s";
  f.pipeline = "b";
  state.forced[f.path] = f;
  const std::vector<std::string> order = {"a", "b", "c"};
  std::vector<PipelineView> views(3);
  EXPECT_EQ(ApplyControls(&state, order, "v/5.m4s", &views), std::optional<size_t>(1));
  EXPECT_TRUE(views[0].disabled);
  EXPECT_FALSE(views[1].disabled);
  EXPECT_FALSE(views[2].disabled);
  EXPECT_EQ(ApplyControls(&state, order, "v/6.m4s", &views), std::nullopt);
  EXPECT_EQ(ApplyControls(nullptr, order, "v/5.m4s", &views), std::nullopt);
  EXPECT_TRUE(IsForcedTo(&state, "v/5.m4s", "b"));
  EXPECT_FALSE(IsForcedTo(&state, "v/5.m4s", "a"));
}

}  // namespace
}  // namespace liveorigin::core
