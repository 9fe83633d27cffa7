// Two pipelines PUT real segments into the real daemon, one of them broken in
// the ways packagers break; GETs must serve the right candidate with the right
// headers, and keep doing so across a kill -9.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fmp4_fixtures.h"
#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

const char* kEvent = R"(id: sel
segment_duration: 1s
dvr_window: 60s
media_template: "$RepresentationID$/$Number$.m4s"
init_template: "$RepresentationID$/init.mp4"
pipelines:
  - {id: a, token: ta}
  - {id: b, token: tb}
hold: {max_wait: 1s}
preferred_grace: 0ms
ingest_ahead: 3
)";

// The 1 s ffmpeg fixture (12800 ticks) placed at segment n of a continuous timeline.
std::string Segment(uint64_t n) {
  static const std::string base = Fixture("dash_video_1.m4s");
  return ShiftTfdt(base, static_cast<int64_t>(n) * 12800);
}

std::string Truncate(std::string seg) { return seg.substr(0, seg.size() - 700); }

class SelectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<TestDaemon>("selection");
    daemon_->WriteEvent("sel", kEvent);
    ASSERT_TRUE(daemon_->Start());
    n_ = LiveEdgeNumber(1s);
  }
  Headers A(Headers extra = {}) {
    extra.emplace_back("Authorization", BasicAuth("a", "ta"));
    return extra;
  }
  Headers B(Headers extra = {}) {
    extra.emplace_back("Authorization", BasicAuth("b", "tb"));
    return extra;
  }
  std::string Url(const std::string& rendition, uint64_t n) {
    return "/sel/" + rendition + "/" + std::to_string(n) + ".m4s";
  }
  // Both pipelines deliver init and a clean n-1, which viewers get from a.
  void Prepare(const std::string& r) {
    for (const auto& who : {A(), B()}) {
      ASSERT_EQ(
          daemon_->Put("/sel/" + r + "/init.mp4", Fixture("dash_video_init.mp4"), who)->status,
          201);
      ASSERT_EQ(daemon_->Put(Url(r, n_ - 1), Segment(n_ - 1), who)->status, 201);
    }
    auto prev = daemon_->Get(Url(r, n_ - 1));
    ASSERT_EQ(prev->status, 200);
    ASSERT_EQ(prev->Header("X-Live-Pipeline"), "a");
  }
  json Candidates(const std::string& r) {
    auto view =
        daemon_->Admin("/admin/events/sel/objects/" + r + "/" + std::to_string(n_) + ".m4s");
    EXPECT_EQ(view->status, 200);
    return json::parse(view->body);
  }
  std::unique_ptr<TestDaemon> daemon_;
  uint64_t n_ = 0;
};

TEST_F(SelectionTest, EachPackagerFaultFailsOverToTheCleanPipeline) {
  struct Case {
    std::string rendition;
    std::optional<std::string> a_bytes;  // nullopt: pipeline a drops the segment
    Headers a_headers;
    std::string a_defect;  // what the admin view must say about a's candidate
  };
  const std::vector<Case> cases = {
      {"drop", std::nullopt, {}, ""},
      {"trunc", Truncate(Segment(n_)), {}, "corrupt"},
      {"shift", ShiftTfdt(Segment(n_), 6400), {}, "timing-discontinuity"},
      {"cut", CutSamples(Segment(n_)), {}, "short-duration"},
      {"declared", Segment(n_), {{"X-Live-Defects", "decode-error"}}, "decode-error"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.rendition);
    Prepare(c.rendition);
    if (c.a_bytes) {
      auto put = daemon_->Put(Url(c.rendition, n_), *c.a_bytes, A(c.a_headers));
      ASSERT_EQ(put->status, 201);
      EXPECT_NE(put->Header("X-Live-Defects").find(c.a_defect), std::string::npos)
          << "the PUT answer names the defect";
    }
    ASSERT_EQ(daemon_->Put(Url(c.rendition, n_), Segment(n_), B())->status, 201);
    auto get = daemon_->Get(Url(c.rendition, n_));
    ASSERT_TRUE(get);
    EXPECT_EQ(get->status, 200);
    EXPECT_EQ(get->Header("X-Live-Pipeline"), "b");
    EXPECT_EQ(get->Header("X-Live-Defects"), "") << "the clean candidate has none";
    EXPECT_EQ(get->body, Segment(n_));
    const json view = Candidates(c.rendition);
    EXPECT_EQ(view["selected"], "b") << view.dump(2);
    if (c.a_bytes) {
      ASSERT_EQ(view["candidates"][0]["pipeline"], "a");
      const std::string defects = view["candidates"][0]["defects"].dump();
      EXPECT_NE(defects.find(c.a_defect), std::string::npos) << view.dump(2);
    }
  }
  EXPECT_NE(daemon_->Log().find("failover"), std::string::npos) << "failover is logged";
}

TEST_F(SelectionTest, AllDefectiveServesTheLeastBadAndSaysSoThenSurvivesKill9) {
  Prepare("both");
  Prepare("clean");
  Prepare("late");
  ASSERT_EQ(daemon_->Put(Url("both", n_), Truncate(Segment(n_)), A())->status, 201);
  ASSERT_EQ(daemon_->Put(Url("both", n_), Segment(n_), B({{"X-Live-Defects", "slate"}}))->status,
            201);
  ASSERT_EQ(daemon_->Put(Url("clean", n_), Segment(n_), B())->status, 201);
  ASSERT_EQ(daemon_->Put(Url("clean", n_), Segment(n_), A())->status, 201);

  auto both = daemon_->Get(Url("both", n_));
  EXPECT_EQ(both->status, 200);
  EXPECT_EQ(both->Header("X-Live-Pipeline"), "b");
  EXPECT_EQ(both->Header("X-Live-Defects"), "slate");
  EXPECT_EQ(both->Header("Cache-Control"), "public, max-age=1") << "defective: one d";
  auto clean = daemon_->Get(Url("clean", n_));
  EXPECT_EQ(clean->Header("X-Live-Pipeline"), "a");

  // Only b delivers "late" in time and is served; the preferred a arrives after
  // viewers got b's bytes. Stickiness keeps b, now and after a restart.
  ASSERT_EQ(daemon_->Put(Url("late", n_), Segment(n_), B())->status, 201);
  auto late = daemon_->Get(Url("late", n_));
  ASSERT_EQ(late->Header("X-Live-Pipeline"), "b");
  std::string other = Segment(n_);
  other.back() = static_cast<char>(other.back() ^ 1);  // a's own encode: different bytes, clean
  auto a_late = daemon_->Put(Url("late", n_), other, A());
  ASSERT_EQ(a_late->status, 201);
  ASSERT_EQ(a_late->Header("X-Live-Defects"), "") << "a's copy is clean: only stickiness keeps b";
  EXPECT_EQ(daemon_->Get(Url("late", n_))->Header("X-Live-Pipeline"), "b") << "sticky";

  daemon_->Kill();
  ASSERT_TRUE(daemon_->Start());
  for (const auto& r : {"clean", "both"}) {
    SCOPED_TRACE(r);
    auto again = daemon_->Get(Url(r, n_));
    ASSERT_EQ(again->status, 200);
    EXPECT_EQ(again->Header("X-Live-Pipeline"), r == std::string("clean") ? "a" : "b");
  }
  EXPECT_EQ(daemon_->Get(Url("clean", n_))->Header("ETag"), clean->Header("ETag"));
  auto late_again = daemon_->Get(Url("late", n_));
  EXPECT_EQ(late_again->Header("X-Live-Pipeline"), "b")
      << "sticky selections are rebuilt from the store";
  EXPECT_EQ(late_again->Header("ETag"), late->Header("ETag"));
  // A defective choice is not sticky: a clean late copy replaces it.
  ASSERT_EQ(daemon_->Put(Url("both", n_), Segment(n_), A())->status, 204);
  auto fixed = daemon_->Get(Url("both", n_));
  EXPECT_EQ(fixed->Header("X-Live-Pipeline"), "a");
  EXPECT_EQ(fixed->Header("X-Live-Defects"), "");
}

}  // namespace
}  // namespace liveorigin::testing
