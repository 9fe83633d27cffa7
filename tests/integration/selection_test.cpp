// Two pipelines PUT real segments into the real daemon, one of them broken in
// the ways packagers break; GETs must serve the right candidate with the right
// headers, and keep doing so across a kill -9.
#include <gtest/gtest.h>

#include <fstream>
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
  // The operator's view says why: every candidate is defective, b's is the least bad.
  const json view = Candidates("both");
  EXPECT_EQ(view["selected"], "b");
  EXPECT_NE(view["reason"].get<std::string>().find("every candidate is defective"),
            std::string::npos)
      << view.dump(2);
  for (const auto& c : view["candidates"]) {
    EXPECT_EQ(c["rank"]["defective"], true) << c.dump(2);
  }
  EXPECT_LT(view["candidates"][1]["rank"]["worst_severity"].get<int>(),
            view["candidates"][0]["rank"]["worst_severity"].get<int>())
      << "slate is milder than corrupt";
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

TEST_F(SelectionTest, ManifestsComeFromTheMostPreferredHealthyPipeline) {
  // SPEC §5.1: non-segment objects from the most preferred pipeline that is
  // healthy (PUT a segment within 2·d = 2 s) and has the object, else from any
  // pipeline that has it.
  ASSERT_EQ(daemon_->Put("/sel/manifest.mpd", "from a", A())->status, 201);
  ASSERT_EQ(daemon_->Put("/sel/manifest.mpd", "from b", B())->status, 201);
  auto manifest = [&] { return daemon_->Get("/sel/manifest.mpd"); };
  auto delivers = [&](const std::string& rendition, const Headers& who) {
    const uint64_t edge = LiveEdgeNumber(1s);
    const auto put = daemon_->Put(Url(rendition, edge), Segment(edge), who);
    return put && (put->status == 201 || put->status == 204);
  };
  // Both deliver: the preferred a is healthy.
  std::optional<HttpResponse> served;
  auto serves = [&](const std::string& body) {
    served = manifest();
    return served && served->body == body;
  };
  EXPECT_TRUE(
      WaitUntil([&] { return delivers("ha", A()) && delivers("hb", B()) && serves("from a"); }));
  EXPECT_EQ(served->Header("X-Live-Pipeline"), "a");
  // Only b goes on delivering: once a has stalled, b's manifest is served.
  EXPECT_TRUE(WaitUntil([&] { return delivers("hb", B()) && serves("from b"); }))
      << daemon_->Admin("/admin/events/sel")->body;
  EXPECT_EQ(served->Header("X-Live-Pipeline"), "b");
  EXPECT_TRUE(WaitUntil([&] {
    const json view = json::parse(daemon_->Admin("/admin/events/sel/objects/manifest.mpd")->body);
    return delivers("hb", B()) && view["selected"] == "b";
  })) << "the admin view shows the same choice";

  // Nobody delivers: both stall, and the most preferred pipeline that has it serves.
  EXPECT_TRUE(WaitUntil([&] {
    const json st = json::parse(daemon_->Admin("/admin/events/sel")->body);
    return st["pipelines"][0]["state"] == "stalled" && st["pipelines"][1]["state"] == "stalled";
  }));
  EXPECT_EQ(manifest()->body, "from a");
}

TEST(InspectionTest, ShortDurationAllowsOneSampleAndNeverTagsTheLastSegment) {
  // The fixture lasts 1 s in 25 samples of 40 ms. Event "near" has d = 1020 ms
  // (short by less than one sample: clean), "far" d = 1050 ms (short by more:
  // short-duration), "end" d = 1 s with half the samples cut: short-duration,
  // unless the segment carries the lmsg brand (the last one of a stream).
  TestDaemon daemon("inspection");
  for (const auto& [id, d] : {std::pair{"near", "1020ms"}, {"far", "1050ms"}, {"end", "1s"}}) {
    daemon.WriteEvent(id,
                      std::string("id: ") + id + "\nsegment_duration: " + d +
                          "\ndvr_window: 60s\nmedia_template: \"$RepresentationID$/$Number$.m4s\"\n"
                          "init_template: \"$RepresentationID$/init.mp4\"\n"
                          "pipelines: [{id: a}]\npreferred_grace: 0ms\n");
  }
  ASSERT_TRUE(daemon.Start());
  const std::string seg = Fixture("dash_video_1.m4s");
  std::string last = CutSamples(seg);
  last.replace(FindBox(last, {"styp"}) + 20, 4, "lmsg");  // the second compatible brand
  auto put = [&](const std::string& id, const std::string& rendition, std::chrono::milliseconds d,
                 const std::string& body) {
    EXPECT_EQ(daemon.Put("/" + id + "/" + rendition + "/init.mp4", Fixture("dash_video_init.mp4"))
                  ->status,
              201);
    const std::string path = rendition + "/" + std::to_string(LiveEdgeNumber(d)) + ".m4s";
    auto r = daemon.Put("/" + id + "/" + path, body);
    EXPECT_EQ(r->status, 201);
    const json view = json::parse(daemon.Admin("/admin/events/" + id + "/objects/" + path)->body);
    EXPECT_EQ(view["candidates"][0]["inspection"]["inspected"], true) << view.dump(2);
    return std::pair{r->Header("X-Live-Defects"), view["candidates"][0]};
  };
  EXPECT_EQ(put("near", "v", 1020ms, seg).first, "") << "20 ms short, samples are 40 ms";
  EXPECT_EQ(put("far", "v", 1050ms, seg).first, "short-duration") << "50 ms short";
  EXPECT_EQ(put("end", "cut", 1s, CutSamples(seg)).first, "short-duration");
  const auto [defects, candidate] = put("end", "last", 1s, last);
  EXPECT_EQ(defects, "") << "lmsg: recorded, not a defect";
  EXPECT_EQ(candidate["inspection"]["last_segment"], true) << candidate.dump(2);
}

TEST(CollapseTest, ConcurrentGetsShareOneStorageRead) {
  // SPEC §5.4. Three large objects are stored, the daemon restarts (nothing is
  // cached), then 16 clients GET each object at the same moment: the hot cache
  // reports one miss (one storage read) per object; every other GET is a hit
  // or joined the read in progress.
  TestDaemon daemon("collapse", "threads: 4\ncache_size: 64MiB\n");
  daemon.WriteEvent("c",
                    "id: c\nsegment_duration: 2s\nmedia_template: \"v/$Number$.m4s\"\n"
                    "pipelines: [{id: a}]\n");
  ASSERT_TRUE(daemon.Start());
  constexpr int kObjects = 3, kClients = 16;
  const size_t size = 12 << 20;  // within a quarter of the cache: it is cached once read
  std::vector<std::string> bodies;
  for (int i = 0; i < kObjects; ++i) {
    bodies.push_back(RandomBytes(size, 100 + i));
    ASSERT_EQ(daemon.Put("/c/o" + std::to_string(i) + ".mpd", bodies.back())->status, 201);
  }
  ASSERT_EQ(daemon.Stop(), 0);
  ASSERT_TRUE(daemon.Start());
  const std::string lookups = "liveorigin_cache_lookups_total{result=\"";
  const double misses0 = daemon.Metric(lookups + "miss\"}").value_or(0);
  for (int i = 0; i < kObjects; ++i) {
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int k = 0; k < kClients; ++k) {
      clients.push_back(std::make_unique<HttpClient>("127.0.0.1", daemon.port()));
      ASSERT_TRUE(clients.back()->Connect());
    }
    // Only the first bytes travel back; the whole object is read either way.
    const std::string get =
        "GET /c/o" + std::to_string(i) + ".mpd HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n\r\n";
    for (auto& c : clients) ASSERT_TRUE(c->SendRaw(get));
    for (auto& c : clients) {
      auto r = c->ReadResponse();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 206);
      EXPECT_EQ(r->body, bodies[i].substr(0, 100));
    }
  }
  EXPECT_EQ(daemon.Metric(lookups + "miss\"}").value_or(0) - misses0, kObjects)
      << "one storage read per object";
  EXPECT_EQ(daemon.Metric(lookups + "hit\"}").value_or(0) +
                daemon.Metric(lookups + "collapsed\"}").value_or(0),
            kObjects * (kClients - 1));
}

// SPEC §5.1: a clean answer is not given (with a long lifetime) before its
// sticky record is durable.
TEST(StickyDurabilityTest, CleanAnswerWaitsForItsStickyRecordToBeDurable) {
  // Only b delivers segment n; the daemon then restarts unable to write
  // (min_free_disk larger than any disk), so the sticky record of the choice
  // it serves cannot be stored. Viewers and CDNs keep what they are given for
  // its max-age: either that answer is short-lived (as for a defective choice,
  // one d) or not a 200, or b stays the choice after a restart where the
  // preferred a delivers its own clean copy.
  const std::string event =
      "id: sel\nsegment_duration: 1s\ndvr_window: 60s\n"
      "media_template: \"$RepresentationID$/$Number$.m4s\"\n"
      "pipelines: [{id: a}, {id: b}]\npreferred_grace: 0ms\ningest_ahead: 3\n";
  TestDaemon normal("sticky-durable");
  normal.WriteEvent("sel", event);
  ASSERT_TRUE(normal.Start());
  const uint64_t n = LiveEdgeNumber(1s);
  const std::string url = "/sel/v/" + std::to_string(n) + ".m4s";
  ASSERT_EQ(normal.Put(url, Segment(n), {{"X-Live-Pipeline", "b"}})->status, 201);
  ASSERT_EQ(normal.Stop(), 0);

  {
    // Same directories, no space for any write.
    std::ofstream(normal.dir() / "origin.yaml", std::ios::app)
        << "limits: {min_free_disk: 1000TiB}\n";
    ASSERT_TRUE(normal.Start());
  }
  auto first = normal.Get(url);
  ASSERT_TRUE(first);
  ASSERT_EQ(normal.Stop(), 0);
  std::string config = ReadFile(normal.dir() / "origin.yaml");
  config.erase(config.find("limits: {min_free_disk: 1000TiB}\n"));
  std::ofstream(normal.dir() / "origin.yaml") << config;
  ASSERT_TRUE(normal.Start());
  std::string other = Segment(n);
  other.back() = static_cast<char>(other.back() ^ 1);  // a's own clean encode
  ASSERT_EQ(normal.Put(url, other, {{"X-Live-Pipeline", "a"}})->status, 201);
  auto later = normal.Get(url);
  ASSERT_TRUE(later);
  const bool short_lived = first->Header("Cache-Control") == "public, max-age=1";
  EXPECT_TRUE(first->status != 200 || short_lived || later->body == first->body)
      << "served " << first->status << " from " << first->Header("X-Live-Pipeline") << " with "
      << first->Header("Cache-Control") << " while its sticky record could not be stored; after "
      << "a restart the same URL serves " << later->Header("X-Live-Pipeline");
}

}  // namespace
}  // namespace liveorigin::testing
