// What an operator relies on: metrics, admin JSON, reload, JSON logs.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

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

TEST_F(OperationsTest, ReloadAddsEventsChangesTokensAndRefusesInvalidFiles) {
  // New event via POST /admin/reload.
  daemon_->WriteEvent("second",
                      "id: second\nsegment_duration: 2s\n"
                      "media_template: \"$Number$.m4s\"\npipelines: [{id: p}]\n");
  auto r = daemon_->Admin("/admin/reload", "POST");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(daemon_->Put("/second/m.mpd", "hello", {})->status, 201);

  // A token change takes effect at once (SIGHUP).
  std::string changed = kEvent;
  changed.replace(changed.find("ta}"), 2, "new-token");
  daemon_->WriteEvent("ops", changed);
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  bool applied = false;
  for (int i = 0; i < 100 && !applied; ++i) {
    std::this_thread::sleep_for(20ms);
    applied =
        daemon_->Put("/ops/t.mpd", "x", {{"Authorization", BasicAuth("a", "new-token")}})->status ==
        201;
  }
  EXPECT_TRUE(applied);
  EXPECT_EQ(daemon_->Put("/ops/t.mpd", "x", A)->status, 403) << "the old token is refused";

  // An invalid file leaves everything running as it was.
  daemon_->WriteEvent("broken", "id: broken\nsegment_duraton: 2s\n");
  auto bad = daemon_->Admin("/admin/reload", "POST");
  ASSERT_EQ(bad->status, 422);
  const json errors = json::parse(bad->body);
  ASSERT_FALSE(errors["errors"].empty());
  EXPECT_TRUE(std::regex_search(errors["errors"][0].get<std::string>(),
                                std::regex(R"(broken\.yaml:2:1: )")))
      << errors.dump();
  EXPECT_EQ(daemon_->Put("/second/m.mpd", "still", {})->status, 204) << "old config still serves";
  auto m = daemon_->Admin("/metrics");
  EXPECT_NE(m->body.find(R"(liveorigin_config_reloads_total{result="error"})"), std::string::npos);

  // A change in events_dir is noticed without being told (removing the bad file).
  std::filesystem::remove(daemon_->dir() / "events" / "broken.yaml");
  daemon_->WriteEvent("third",
                      "id: third\nsegment_duration: 2s\n"
                      "media_template: \"$Number$.m4s\"\npipelines: [{id: p}]\n");
  bool noticed = false;
  for (int i = 0; i < 150 && !noticed; ++i) {
    std::this_thread::sleep_for(20ms);
    noticed = daemon_->Put("/third/m.mpd", "x", {})->status == 201;
  }
  EXPECT_TRUE(noticed) << daemon_->Log();
}

TEST_F(OperationsTest, JsonLogsAreOneObjectPerLineWithAccessLines) {
  ASSERT_EQ(daemon_->Put("/ops/a.mpd", "x", A)->status, 201);
  // The refusal message quotes the pipeline id the client sent: JSON escaping is exercised.
  ASSERT_EQ(daemon_->Put("/ops/y.mpd", "x", {{"Authorization", BasicAuth("a\"\\b", "no")}})->status,
            403);
  std::this_thread::sleep_for(50ms);
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
