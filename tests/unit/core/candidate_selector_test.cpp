// Table-driven tests of the pure selector (SPEC §5.1).
#include "liveorigin/core/candidate_selector.h"

#include <gtest/gtest.h>

namespace liveorigin::core {
namespace {

using namespace std::chrono_literals;
using Outcome = Selection::Outcome;

// One pipeline in a case: "-" = no candidate, "" = clean, else comma-separated defects.
struct P {
  bool healthy;
  const char* candidate;
};

struct Case {
  const char* name;
  std::vector<P> pipelines;
  Millis now_after_availability;  // now - availability_time
  std::optional<size_t> sticky;
  Outcome outcome;
  size_t pipeline;  // expected for kServe / kWait
};

// Readable test names and failure messages instead of the parameter's bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<std::string> Split(const char* s) {
  std::vector<std::string> out;
  std::string cur;
  for (const char* p = s; *p; ++p) {
    if (*p == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(*p);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

SegmentSelectionInput Build(const Case& c) {
  SegmentSelectionInput in;
  in.availability_time = TimePoint(1000s);
  in.now = in.availability_time + c.now_after_availability;
  in.preferred_grace = 500ms;
  in.sticky = c.sticky;
  for (const auto& p : c.pipelines) {
    PipelineView v;
    v.healthy = p.healthy;
    if (std::string(p.candidate) != "-") v.candidate = CandidateView{Split(p.candidate)};
    in.pipelines.push_back(v);
  }
  return in;
}

const Case kCases[] = {
    // Rank rule 1: clean before defective.
    {"clean beats defective preferred",
     {{true, "corrupt"}, {true, ""}},
     1s,
     {},
     Outcome::kServe,
     1},
    {"clean beats slate", {{true, "slate"}, {true, ""}}, 1s, {}, Outcome::kServe, 1},
    // Rank rule 2: milder defects first.
    {"slate beats short-duration",
     {{true, "short-duration"}, {true, "slate"}},
     1s,
     {},
     Outcome::kServe,
     1},
    {"short-duration beats discontinuity",
     {{true, "timing-discontinuity"}, {true, "short-duration"}},
     1s,
     {},
     Outcome::kServe,
     1},
    {"missing-audio beats discontinuity",
     {{true, "timing-discontinuity"}, {true, "missing-audio-samples"}},
     1s,
     {},
     Outcome::kServe,
     1},
    {"discontinuity beats decode-error",
     {{true, "decode-error"}, {true, "timing-discontinuity"}},
     1s,
     {},
     Outcome::kServe,
     1},
    {"decode-error beats corrupt",
     {{true, "corrupt"}, {true, "decode-error"}},
     1s,
     {},
     Outcome::kServe,
     1},
    {"unknown token counts as a defect",
     {{true, "weird-thing"}, {true, ""}},
     1s,
     {},
     Outcome::kServe,
     1},
    {"unknown token is milder than corrupt",
     {{true, "corrupt"}, {true, "weird-thing"}},
     1s,
     {},
     Outcome::kServe,
     1},
    {"fewer defects of equal severity first",
     {{true, "slate,short-duration"}, {true, "short-duration"}},
     1s,
     {},
     Outcome::kServe,
     1},
    {"two mild beat one severe",
     {{true, "corrupt"}, {true, "slate,short-duration"}},
     1s,
     {},
     Outcome::kServe,
     1},
    // Rank rule 3: priority breaks ties.
    {"tie between clean: priority", {{true, ""}, {true, ""}}, 1s, {}, Outcome::kServe, 0},
    {"tie between equal defects: priority",
     {{true, "slate"}, {true, "slate"}, {true, "slate"}},
     1s,
     {},
     Outcome::kServe,
     0},
    {"all defective: least bad",
     {{true, "corrupt"}, {true, "decode-error"}, {true, "slate"}},
     1s,
     {},
     Outcome::kServe,
     2},
    // Presence.
    {"nobody delivered", {{true, "-"}, {true, "-"}}, 1s, {}, Outcome::kNone, 0},
    {"only the second delivered", {{true, "-"}, {true, ""}}, 1s, {}, Outcome::kServe, 1},
    // Preferred grace.
    {"grace: preferred clean served at once",
     {{true, ""}, {true, ""}},
     0ms,
     {},
     Outcome::kServe,
     0},
    {"grace: wait for preferred while only B has it",
     {{true, "-"}, {true, ""}},
     100ms,
     {},
     Outcome::kWait,
     0},
    {"grace: wait even before availability",
     {{true, "-"}, {true, ""}},
     -500ms,
     {},
     Outcome::kWait,
     0},
    {"grace: defective preferred is waited on",
     {{true, "corrupt"}, {true, ""}},
     499ms,
     {},
     Outcome::kWait,
     0},
    {"grace over: best present", {{true, "-"}, {true, ""}}, 500ms, {}, Outcome::kServe, 1},
    {"grace over: defective preferred loses",
     {{true, "corrupt"}, {true, ""}},
     600ms,
     {},
     Outcome::kServe,
     1},
    {"stalled preferred is not waited for",
     {{false, "-"}, {true, ""}},
     0ms,
     {},
     Outcome::kServe,
     1},
    {"stalled preferred: next healthy is preferred",
     {{false, "-"}, {true, "-"}, {true, ""}},
     100ms,
     {},
     Outcome::kWait,
     1},
    {"no healthy pipeline: best present at once",
     {{false, "slate"}, {false, ""}},
     0ms,
     {},
     Outcome::kServe,
     1},
    // Stickiness.
    {"sticky wins over a later cleaner preferred",
     {{true, ""}, {true, ""}},
     1s,
     1,
     Outcome::kServe,
     1},
    {"sticky wins during grace", {{true, ""}, {true, ""}}, 0ms, 1, Outcome::kServe, 1},
    {"sticky whose candidate vanished falls back",
     {{true, ""}, {true, "-"}},
     1s,
     1,
     Outcome::kServe,
     0},
};

class SelectorTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(SelectorTableTest, Selects) {
  const Case& c = GetParam();
  const Selection s = SelectSegment(Build(c));
  EXPECT_EQ(s.outcome, c.outcome) << c.name << ": " << s.reason;
  if (c.outcome != Outcome::kNone) {
    EXPECT_EQ(s.pipeline, c.pipeline) << c.name << ": " << s.reason;
  }
  EXPECT_FALSE(s.reason.empty());
  if (c.outcome == Outcome::kWait) {
    EXPECT_EQ(s.wait_until, TimePoint(1000s) + 500ms) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, SelectorTableTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string n;
                           for (const char* p = info.param.name; *p; ++p) {
                             n.push_back(std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_');
                           }
                           return n;
                         });

TEST(SelectorTest, SameInputsGiveTheSameChoice) {
  const Case c{"", {{true, "slate"}, {true, "slate"}, {false, ""}}, 2s, {}, Outcome::kServe, 2};
  const Selection first = SelectSegment(Build(c));
  for (int i = 0; i < 100; ++i) {
    const Selection again = SelectSegment(Build(c));
    EXPECT_EQ(again.outcome, first.outcome);
    EXPECT_EQ(again.pipeline, first.pipeline);
  }
  EXPECT_EQ(first.pipeline, 2u);
}

TEST(SelectorTest, RankOrdersCleanThenSeverityThenCountThenPriority) {
  EXPECT_LT(RankOf({{}}, 5), RankOf({{"slate"}}, 0));
  EXPECT_LT(RankOf({{"slate", "slate2"}}, 0), RankOf({{"corrupt"}}, 0));
  EXPECT_LT(RankOf({{"slate"}}, 0), RankOf({{"slate"}}, 1));
}

TEST(SelectObjectTest, MostPreferredHealthyThatHasIt) {
  std::vector<PipelineView> p(3);
  p[0] = {false, CandidateView{}};
  p[1] = {true, std::nullopt};
  p[2] = {true, CandidateView{}};
  Selection s = SelectObject(p);
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 2u);
  p[2].candidate.reset();
  s = SelectObject(p);
  EXPECT_EQ(s.outcome, Outcome::kServe);
  EXPECT_EQ(s.pipeline, 0u) << "no healthy pipeline has it: any that has it";
  p[0].candidate.reset();
  EXPECT_EQ(SelectObject(p).outcome, Outcome::kNone);
}

}  // namespace
}  // namespace liveorigin::core
