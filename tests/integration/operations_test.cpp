// What an operator relies on: metrics, admin JSON, reload, JSON logs.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "fmp4_fixtures.h"
#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const char* kEvent = R"(id: ops
segment_duration: 2s
dvr_window: 60s
media_template: "$RepresentationID$/$Number$.m4s"
pipelines:
  - {id: a, token: ta}
  - {id: b, token: tb}
hold: {max_wait: 1s}
)";

// Checks the Prometheus text exposition format line by line; returns the
// problems found (empty = valid) and fills the set of sample names.
std::vector<std::string> CheckExposition(const std::string& text, std::set<std::string>* names) {
  static const std::regex kHelp(R"(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*)");
  static const std::regex kType(
      R"(# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))");
  static const std::regex kSample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?[0-9]+)?)");
  std::vector<std::string> problems;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::smatch m;
    if (line.rfind("# HELP", 0) == 0) {
      if (!std::regex_match(line, kHelp)) problems.push_back("bad HELP: " + line);
    } else if (line.rfind("# TYPE", 0) == 0) {
      if (!std::regex_match(line, kType)) problems.push_back("bad TYPE: " + line);
    } else if (line[0] == '#') {
      continue;
    } else if (std::regex_match(line, m, kSample)) {
      names->insert(m[1]);
    } else {
      problems.push_back("bad sample: " + line);
    }
  }
  return problems;
}

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<TestDaemon>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        "log: {format: json, access_log: true}\n");
    daemon_->WriteEvent("ops", kEvent);
    ASSERT_TRUE(daemon_->Start());
  }
  std::unique_ptr<TestDaemon> daemon_;
  const std::vector<std::pair<std::string, std::string>> A{{"Authorization", BasicAuth("a", "ta")}};
};

TEST_F(OperationsTest, MetricsAreValidPrometheusTextAndCountWhatHappened) {
  const uint64_t n = LiveEdgeNumber(2s);
  ASSERT_EQ(daemon_->Put("/ops/v/" + std::to_string(n) + ".m4s", "garbage", A)->status, 201);
  ASSERT_EQ(daemon_->Put("/ops/x.mpd", "x", {})->status, 401);
  ASSERT_EQ(daemon_->Get("/ops/v/" + std::to_string(n) + ".m4s")->status, 200);
  auto m = daemon_->Admin("/metrics");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  EXPECT_EQ(m->Header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  std::set<std::string> names;
  const auto problems = CheckExposition(m->body, &names);
  EXPECT_TRUE(problems.empty()) << problems.front();
  for (const char* want :
       {"liveorigin_requests_total", "liveorigin_request_duration_seconds_bucket",
        "liveorigin_ingest_bytes_total", "liveorigin_response_body_bytes_total",
        "liveorigin_put_refused_total", "liveorigin_defects_total", "liveorigin_selections_total",
        "liveorigin_held_requests", "liveorigin_cache_lookups_total",
        "liveorigin_pipeline_lateness_seconds", "liveorigin_pipeline_seconds_since_last_put",
        "liveorigin_pipeline_healthy", "liveorigin_config_reloads_total",
        "liveorigin_storage_healthy"}) {
    EXPECT_TRUE(names.count(want)) << want << " missing";
  }
  EXPECT_NE(m->body.find(R"(liveorigin_put_refused_total{event="ops",reason="unauthorized"} 1)"),
            std::string::npos);
  EXPECT_NE(m->body.find(R"(liveorigin_defects_total{event="ops",pipeline="a",type="corrupt"} 1)"),
            std::string::npos);
  EXPECT_NE(m->body.find(R"(liveorigin_selections_total{event="ops",pipeline="a"} 1)"),
            std::string::npos);

  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    const auto file = daemon_->dir() / "metrics.txt";
    std::ofstream(file) << m->body;
    const std::string cmd = "promtool check metrics < " + file.string() + " > " +
                            (daemon_->dir() / "promtool.out").string() + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFile(daemon_->dir() / "promtool.out");
  }
}

TEST_F(OperationsTest, AdminEventStatusAndObjectView) {
  const uint64_t n = LiveEdgeNumber(2s);
  const std::string path = "v/" + std::to_string(n) + ".m4s";
  ASSERT_EQ(daemon_->Put("/ops/" + path, "x", A)->status, 201);
  auto list = daemon_->Admin("/admin/events");
  ASSERT_EQ(list->status, 200);
  EXPECT_EQ(json::parse(list->body)["events"][0]["id"], "ops");
  auto ev = daemon_->Admin("/admin/events/ops");
  ASSERT_EQ(ev->status, 200);
  const json status = json::parse(ev->body);
  EXPECT_TRUE(status["live_edge"].is_number());
  EXPECT_EQ(status["pipelines"][0]["id"], "a");
  EXPECT_EQ(status["pipelines"][0]["state"], "healthy");
  EXPECT_EQ(status["pipelines"][1]["state"], "stalled");
  EXPECT_EQ(status["pipelines"][0]["last_number"], n);
  auto obj = daemon_->Admin("/admin/events/ops/objects/" + path);
  ASSERT_EQ(obj->status, 200);
  const json view = json::parse(obj->body);
  EXPECT_EQ(view["candidates"][0]["pipeline"], "a");
  EXPECT_EQ(view["candidates"][0]["defects"][0], "corrupt");
  EXPECT_EQ(daemon_->Admin("/admin/events/nope")->status, 404);
  EXPECT_EQ(daemon_->Admin("/admin/nothing")->status, 404);
}

// Replaces an event file without changing its name, size or modification
// time: invisible to the events_dir poller, so only an explicit reload
// (SIGHUP, POST /admin/reload) can apply it. The new text is written beside
// the directory and renamed over the old file in one step.
void ReplaceUnnoticed(const std::filesystem::path& file, const std::string& text) {
  ASSERT_EQ(std::filesystem::file_size(file), text.size()) << "same size, or the poller sees it";
  const auto mtime = std::filesystem::last_write_time(file);
  const auto staged = file.parent_path().parent_path() / (file.filename().string() + ".staged");
  std::ofstream(staged) << text;
  std::filesystem::last_write_time(staged, mtime);
  std::filesystem::rename(staged, file);
}

std::string WithToken(std::string event, const std::string& token) {
  event.replace(event.find("ta}"), 2, token);
  return event;
}

TEST_F(OperationsTest, ReloadAddsEventsAndNoticesChangesInEventsDir) {
  // New event via POST /admin/reload.
  daemon_->WriteEvent("second",
                      "id: second\nsegment_duration: 2s\n"
                      "media_template: \"$Number$.m4s\"\npipelines: [{id: p}]\n");
  auto r = daemon_->Admin("/admin/reload", "POST");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(daemon_->Put("/second/m.mpd", "hello", {})->status, 201);

  // A change in events_dir is noticed without being told.
  daemon_->WriteEvent("third",
                      "id: third\nsegment_duration: 2s\n"
                      "media_template: \"$Number$.m4s\"\npipelines: [{id: p}]\n");
  EXPECT_TRUE(WaitUntil([&] { return daemon_->Put("/third/m.mpd", "x", {})->status == 201; }))
      << daemon_->Log();
}

TEST_F(OperationsTest, SighupReloadsEventFiles) {
  ASSERT_EQ(daemon_->Put("/ops/t.mpd", "x", A)->status, 201);
  // Same length as "ta": the poller cannot see the change (ReplaceUnnoticed).
  ReplaceUnnoticed(daemon_->dir() / "events" / "ops.yaml", WithToken(kEvent, "tz"));
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  const std::vector<std::pair<std::string, std::string>> z{{"Authorization", BasicAuth("a", "tz")}};
  EXPECT_TRUE(WaitUntil([&] { return daemon_->Put("/ops/t.mpd", "y", z)->status == 204; }))
      << "the new token is accepted after SIGHUP\n"
      << daemon_->Log();
  EXPECT_EQ(daemon_->Put("/ops/t.mpd", "x", A)->status, 403) << "the old token is refused";
  EXPECT_NE(daemon_->Log().find("SIGHUP"), std::string::npos);
}

TEST_F(OperationsTest, InvalidFileRefusesTheWholeReloadAndIsCounted) {
  const std::string errors_metric = R"(liveorigin_config_reloads_total{result="error"})";
  const double errors_before = daemon_->Metric(errors_metric).value_or(-1);
  ASSERT_GE(errors_before, 0) << "the series exists from the start";
  // One invalid file and two valid changes (a new event, a new token). The
  // invalid one is written first, so the events_dir poller never sees the
  // valid ones alone.
  daemon_->WriteEvent("broken", "id: broken\nsegment_duraton: 2s\n");
  daemon_->WriteEvent("fourth",
                      "id: fourth\nsegment_duration: 2s\n"
                      "media_template: \"$Number$.m4s\"\npipelines: [{id: p}]\n");
  daemon_->WriteEvent("ops", WithToken(kEvent, "tq"));
  auto bad = daemon_->Admin("/admin/reload", "POST");
  ASSERT_EQ(bad->status, 422);
  const json errors = json::parse(bad->body);
  ASSERT_FALSE(errors["errors"].empty());
  EXPECT_TRUE(std::regex_search(errors["errors"][0].get<std::string>(),
                                std::regex(R"(broken\.yaml:2:1: )")))
      << errors.dump();
  EXPECT_NE(daemon_->Log().find("broken.yaml:2:1: "), std::string::npos) << "logged with position";
  // Atomic: neither valid change was applied, the running configuration serves on.
  EXPECT_EQ(daemon_->Put("/fourth/m.mpd", "x", {})->status, 404);
  EXPECT_EQ(daemon_->Put("/ops/t.mpd", "x", {{"Authorization", BasicAuth("a", "tq")}})->status,
            403);
  EXPECT_EQ(daemon_->Put("/ops/t.mpd", "x", A)->status, 201);
  // Counted (the events_dir poller may have failed on the same files too).
  EXPECT_GE(daemon_->Metric(errors_metric).value_or(-1), errors_before + 1);
  const double after = daemon_->Metric(errors_metric).value_or(-1);
  ASSERT_EQ(daemon_->Admin("/admin/reload", "POST")->status, 422);
  EXPECT_GE(daemon_->Metric(errors_metric).value_or(-1), after + 1) << "each failure counts";

  // Once the bad file is gone, both changes apply together.
  std::filesystem::remove(daemon_->dir() / "events" / "broken.yaml");
  ASSERT_EQ(daemon_->Admin("/admin/reload", "POST")->status, 200);
  EXPECT_EQ(daemon_->Put("/fourth/m.mpd", "x", {})->status, 201);
  EXPECT_EQ(daemon_->Put("/ops/t.mpd", "x", {{"Authorization", BasicAuth("a", "tq")}})->status,
            204);
}

TEST_F(OperationsTest, AdminAndMetricsDescribeEachPipeline) {
  // SPEC §6: per pipeline: last segment number, last PUT time, lateness,
  // segments behind the live edge, defect counts, healthy or stalled, selections.
  const std::vector<std::pair<std::string, std::string>> B{{"Authorization", BasicAuth("b", "tb")}};
  const uint64_t edge = LiveEdgeNumber(2s);
  const uint64_t late = edge - 2;
  using std::chrono::system_clock;
  const auto t0 = system_clock::now();
  auto slate = A;
  slate.emplace_back("X-Live-Defects", "slate");
  const std::string segment = Fixture("dash_video_1.m4s");  // clean: no init, no neighbours
  ASSERT_EQ(daemon_->Put("/ops/v/" + std::to_string(late) + ".m4s", segment, slate)->status, 201);
  const auto t1 = system_clock::now();
  ASSERT_EQ(daemon_->Put("/ops/v/" + std::to_string(edge) + ".m4s", segment, B)->status, 201);
  auto got = daemon_->Get("/ops/v/" + std::to_string(late) + ".m4s");
  ASSERT_EQ(got->status, 200);
  ASSERT_EQ(got->Header("X-Live-Pipeline"), "a");

  const uint64_t edge_before = LiveEdgeNumber(2s);
  const json status = json::parse(daemon_->Admin("/admin/events/ops")->body);
  const std::string metrics = daemon_->Admin("/metrics")->body;
  const uint64_t edge_after = LiveEdgeNumber(2s);
  const json& a = status["pipelines"][0];
  const json& b = status["pipelines"][1];
  ASSERT_EQ(a["id"], "a");
  ASSERT_EQ(b["id"], "b");
  EXPECT_EQ(a["last_number"], late);
  EXPECT_EQ(b["last_number"], edge);
  EXPECT_EQ(a["state"], "healthy");
  EXPECT_EQ(b["state"], "healthy");
  EXPECT_EQ(a["defects"], json({{"slate", 1}}));
  EXPECT_EQ(b["defects"], json::object());
  EXPECT_EQ(a["selections"], 1);
  EXPECT_EQ(b["selections"], 0);
  // Times: the PUT happened between t0 and t1.
  const std::string last_put = a["last_put"];
  EXPECT_GE(last_put, Rfc3339(t0).substr(0, 19)) << last_put;
  EXPECT_LE(last_put.substr(0, 19), Rfc3339(t1).substr(0, 19)) << last_put;
  const auto available = system_clock::time_point(2s * static_cast<int64_t>(late + 1));
  const double lateness = a["lateness_seconds"];
  EXPECT_GE(lateness, std::chrono::duration<double>(t0 - available).count() - 0.001);
  EXPECT_LE(lateness, std::chrono::duration<double>(t1 - available).count() + 0.001);
  EXPECT_GE(a["behind_live_edge"].get<int64_t>(), static_cast<int64_t>(edge_before - late));
  EXPECT_LE(a["behind_live_edge"].get<int64_t>(), static_cast<int64_t>(edge_after - late));

  auto metric = [&](const std::string& series) { return MetricValue(metrics, series); };
  const auto behind =
      metric(R"(liveorigin_pipeline_segments_behind_live_edge{event="ops",pipeline="a"})");
  ASSERT_TRUE(behind);
  EXPECT_GE(*behind, static_cast<double>(edge_before - late));
  EXPECT_LE(*behind, static_cast<double>(edge_after - late));
  const auto behind_b =
      metric(R"(liveorigin_pipeline_segments_behind_live_edge{event="ops",pipeline="b"})");
  ASSERT_TRUE(behind_b);
  EXPECT_LE(*behind_b, static_cast<double>(edge_after - edge));
  EXPECT_NEAR(
      metric(R"(liveorigin_pipeline_lateness_seconds{event="ops",pipeline="a"})").value_or(-99),
      lateness, 0.001);
  EXPECT_EQ(metric(R"(liveorigin_pipeline_healthy{event="ops",pipeline="a"})"), 1);
  EXPECT_EQ(metric(R"(liveorigin_selections_total{event="ops",pipeline="a"})"), 1);
  EXPECT_EQ(metric(R"(liveorigin_defects_total{event="ops",pipeline="a",type="slate"})"), 1);
}

TEST_F(OperationsTest, LatencyHistogramCountsEachRequestInItsBucket) {
  const std::string get = R"(liveorigin_request_duration_seconds_bucket{method="GET",le=")";
  auto count = [&](const std::string& le) { return daemon_->Metric(get + le + "\"}").value_or(0); };
  const double inf0 = count("+Inf"), half0 = count("0.5");
  const double n0 =
      daemon_->Metric(R"(liveorigin_request_duration_seconds_count{method="GET"})").value_or(0);
  ASSERT_EQ(daemon_->Put("/ops/h.mpd", "x", A)->status, 201);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(daemon_->Get("/ops/h.mpd")->status, 200);
  // One GET held for hold.max_wait (1 s): it can land in no bucket below 1 s.
  auto held = daemon_->Get("/ops/v/" + std::to_string(LiveEdgeNumber(2s) + 1) + ".m4s");
  ASSERT_EQ(held->status, 404);
  ASSERT_FALSE(held->Header("X-Live-Held-Ms").empty());
  EXPECT_EQ(count("+Inf"), inf0 + 6);
  EXPECT_EQ(daemon_->Metric(R"(liveorigin_request_duration_seconds_count{method="GET"})"), n0 + 6);
  EXPECT_LE(count("0.5"), half0 + 5) << "the held request is not counted under 0.5 s";
  EXPECT_GE(count("10"), count("1")) << "buckets are cumulative";
  EXPECT_GE(daemon_->Metric(R"(liveorigin_request_duration_seconds_sum{method="GET"})").value_or(0),
            1.0)
      << "the sum includes the held second";
}

TEST_F(OperationsTest, JsonLogsAreOneObjectPerLineWithAccessLines) {
  ASSERT_EQ(daemon_->Put("/ops/a.mpd", "x", A)->status, 201);
  // The refusal message quotes the pipeline id the client sent: JSON escaping is exercised.
  ASSERT_EQ(daemon_->Put("/ops/y.mpd", "x", {{"Authorization", BasicAuth("a\"\\b", "no")}})->status,
            403);
  ASSERT_TRUE(daemon_->WaitForLog("refused 403"));
  std::istringstream log(daemon_->Log());
  std::string line;
  int lines = 0, access = 0, refused = 0, escaped = 0;
  while (std::getline(log, line)) {
    if (line.empty()) continue;
    json j;
    ASSERT_NO_THROW(j = json::parse(line)) << line;
    ASSERT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
    ++lines;
    const std::string msg = j["msg"];
    if (msg.rfind("access ", 0) == 0) ++access;
    if (msg.find("refused 403") != std::string::npos) ++refused;
    if (msg.find("'a\"\\b'") != std::string::npos) ++escaped;
  }
  EXPECT_GE(lines, 4);
  EXPECT_GE(access, 2);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(escaped, 1) << "quote and backslash survive the JSON round trip";
}

TEST(AdminTokenTest, ProtectsAdminAndMetricsButNotProbes) {
  TestDaemon daemon("admin-token", "admin_token: adm1n\n");
  daemon.WriteEvent("ops", kEvent);
  ASSERT_TRUE(daemon.Start());
  HttpClient c("127.0.0.1", daemon.admin_port());
  EXPECT_EQ(c.Request("GET", "/healthz")->status, 200);
  EXPECT_EQ(c.Request("GET", "/readyz")->status, 200);
  auto anonymous = c.Request("GET", "/metrics");
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->Header("WWW-Authenticate"), "Bearer realm=\"liveorigin-admin\"");
  EXPECT_EQ(c.Request("GET", "/admin/events", {{"Authorization", "Bearer wrong"}})->status, 403);
  EXPECT_EQ(c.Request("POST", "/admin/reload")->status, 401);
  EXPECT_EQ(c.Request("GET", "/metrics", {{"Authorization", "Bearer adm1n"}})->status, 200);
  EXPECT_EQ(c.Request("GET", "/admin/events/ops", {{"Authorization", "Bearer adm1n"}})->status,
            200);
  EXPECT_EQ(daemon.Log().find("adm1n"), std::string::npos) << "never logged";
}

}  // namespace
}  // namespace liveorigin::testing
