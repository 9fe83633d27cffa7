// SPEC §12 against the real daemon on port 0: disabling a pipeline and
// forcing a selection by curl-able POSTs, guarded by the admin token,
// audited, counted, and kept across restarts.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "fmp4_fixtures.h"
#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;
using nlohmann::json;

const char* kEvent = R"(id: oc
segment_duration: 1s
dvr_window: 60s
media_template: "$RepresentationID$/$Number$.m4s"
init_template: "$RepresentationID$/init.mp4"
pipelines:
  - {id: a, token: ta}
  - {id: b, token: tb}
hold: {max_wait: 2s}
preferred_grace: 0ms
ingest_ahead: 3
)";
constexpr const char* kAdminToken = "operator-secret";

std::string Segment(uint64_t n, int variant = 0) {
  static const std::string base = Fixture("dash_video_1.m4s");
  std::string s = ShiftTfdt(base, static_cast<int64_t>(n) * 12800);
  if (variant) s.back() = static_cast<char>(s.back() ^ variant);
  return s;
}

// What the origin records as the admin token's identity.
std::string TokenId(const std::string& token) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (int i = 0; i < 6; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xF]);
  }
  return out;
}

class OperatorControlsDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<TestDaemon>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        std::string("node_name: ops-node\nadmin_token: ") + kAdminToken + "\n");
    daemon_->WriteEvent("oc", kEvent);
    ASSERT_TRUE(daemon_->Start());
  }
  Headers As(const std::string& p) {
    return {{"Authorization", BasicAuth(p, p == "a" ? "ta" : "tb")}};
  }
  std::string Url(uint64_t n, const std::string& rendition = "v") {
    return "/oc/" + rendition + "/" + std::to_string(n) + ".m4s";
  }
  void PutBoth(uint64_t n, const std::string& rendition = "v") {
    ASSERT_EQ(daemon_->Put(Url(n, rendition), Segment(n), As("a"))->status, 201);
    ASSERT_EQ(daemon_->Put(Url(n, rendition), Segment(n, 1), As("b"))->status, 201);
  }
  HttpResponse Admin(const std::string& method, const std::string& target,
                     const std::string& token = kAdminToken) {
    HttpClient c("127.0.0.1", daemon_->admin_port());
    Headers h;
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    auto r = c.Request(method, target, h);
    EXPECT_TRUE(r) << target;
    return r ? *r : HttpResponse{};
  }
  json AdminJson(const std::string& method, const std::string& target, int status = 200) {
    const HttpResponse r = Admin(method, target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return json::parse(r.body);
  }
  std::string Metrics() { return Admin("GET", "/metrics").body; }
  void Restart() {
    ASSERT_EQ(daemon_->Stop(), 0);
    ASSERT_TRUE(daemon_->Start());
  }

  std::unique_ptr<TestDaemon> daemon_;
};

TEST_F(OperatorControlsDaemonTest, CountersExistFromTheStart) {
  const std::string m = Metrics();
  for (const char* action : {"disable", "enable", "select"}) {
    EXPECT_NE(m.find(std::string("liveorigin_operator_actions_total{action=\"") + action +
                     "\",event=\"oc\"} 0"),
              std::string::npos)
        << action;
  }
  EXPECT_NE(m.find("liveorigin_pipeline_disabled{event=\"oc\",pipeline=\"a\"} 0"),
            std::string::npos);
  EXPECT_NE(m.find("liveorigin_forced_selections{event=\"oc\"} 0"), std::string::npos);
}

TEST_F(OperatorControlsDaemonTest, DisabledPipelineStaysOutOfSelectionAcrossARestart) {
  const uint64_t n = LiveEdgeNumber(1s);
  PutBoth(n);
  ASSERT_EQ(daemon_->Get(Url(n))->Header("X-Live-Pipeline"), "a");

  const json off = AdminJson("POST", "/admin/events/oc/pipelines/a/disable");
  EXPECT_EQ(off["changed"], true);
  EXPECT_EQ(off["disabled"], true);
  EXPECT_EQ(daemon_->Get(Url(n))->Header("X-Live-Pipeline"), "a") << "a served answer stays";
  PutBoth(n + 1);  // a's PUTs are still stored
  EXPECT_EQ(daemon_->Get(Url(n + 1))->Header("X-Live-Pipeline"), "b");
  const json view =
      AdminJson("GET", "/admin/events/oc/objects/v/" + std::to_string(n + 1) + ".m4s");
  EXPECT_EQ(view["candidates"].size(), 2u);
  EXPECT_EQ(view["candidates"][0]["disabled"], true);

  const json status = AdminJson("GET", "/admin/events/oc");
  EXPECT_EQ(status["pipelines"][0]["disabled"], true);
  EXPECT_EQ(status["operator"]["disabled_pipelines"], json::array({"a"}));
  const json& entry = status["operator"]["audit"].back();
  EXPECT_EQ(entry["action"], "disable");
  EXPECT_EQ(entry["pipeline"], "a");
  EXPECT_EQ(entry["node"], "ops-node");
  EXPECT_EQ(entry["remote"].get<std::string>().rfind("127.0.0.1:", 0), 0u) << entry;
  EXPECT_EQ(entry["token_id"], TokenId(kAdminToken));
  EXPECT_NE(Metrics().find("liveorigin_operator_actions_total{action=\"disable\",event=\"oc\"} 1"),
            std::string::npos);
  EXPECT_NE(Metrics().find("liveorigin_pipeline_disabled{event=\"oc\",pipeline=\"a\"} 1"),
            std::string::npos);
  EXPECT_NE(daemon_->Log().find("operator: pipeline a of event oc disabled"), std::string::npos);
  EXPECT_EQ(daemon_->Log().find(kAdminToken), std::string::npos) << "the token is never logged";

  // Fresh renditions: segments at the live edge that nobody was served yet.
  Restart();
  const uint64_t m = LiveEdgeNumber(1s);
  PutBoth(m, "w");
  auto after_restart = daemon_->Get(Url(m, "w"));
  EXPECT_EQ(after_restart->Header("X-Live-Pipeline"), "b")
      << "still disabled; " << after_restart->status << " " << after_restart->body;
  EXPECT_EQ(AdminJson("GET", "/admin/events/oc")["operator"]["audit"].size(), 1u);

  EXPECT_EQ(AdminJson("POST", "/admin/events/oc/pipelines/a/enable")["changed"], true);
  PutBoth(m, "x");
  EXPECT_EQ(daemon_->Get(Url(m, "x"))->Header("X-Live-Pipeline"), "a");
  EXPECT_EQ(AdminJson("POST", "/admin/events/oc/pipelines/a/enable")["changed"], false);
}

TEST_F(OperatorControlsDaemonTest, ForcedSelectionReplacesAStickyChoiceAcrossAKill) {
  const uint64_t n = LiveEdgeNumber(1s);
  PutBoth(n);
  auto first = daemon_->Get(Url(n));
  ASSERT_EQ(first->Header("X-Live-Pipeline"), "a");

  const std::string path = "v/" + std::to_string(n) + ".m4s";
  const json j = AdminJson("POST", "/admin/events/oc/objects/" + path + "?select=b");
  EXPECT_EQ(j["changed"], true);
  EXPECT_EQ(j["previous_pipeline"], "a");
  EXPECT_EQ("\"" + j["old_etag"].get<std::string>() + "\"", first->Header("ETag"));
  auto forced = daemon_->Get(Url(n));
  EXPECT_EQ(forced->Header("X-Live-Pipeline"), "b");
  EXPECT_EQ(forced->Header("ETag"), "\"" + j["new_etag"].get<std::string>() + "\"");
  EXPECT_EQ(forced->body, Segment(n, 1));
  EXPECT_EQ(daemon_->Put(Url(n), Segment(n, 2), As("b"))->status, 409)
      << "forced bytes never change either";

  daemon_->Kill();
  ASSERT_TRUE(daemon_->Start());
  EXPECT_EQ(daemon_->Get(Url(n))->Header("X-Live-Pipeline"), "b");
  const json view = AdminJson("GET", "/admin/events/oc/objects/" + path);
  EXPECT_EQ(view["forced"]["pipeline"], "b");
  EXPECT_EQ(view["forced"]["previous_etag"], j["old_etag"]);
  EXPECT_EQ(view["selected"], "b");
  EXPECT_EQ(AdminJson("GET", "/admin/events/oc")["operator"]["forced_selections"][0]["path"], path);
  EXPECT_NE(Metrics().find("liveorigin_forced_selections{event=\"oc\"} 1"), std::string::npos);
}

TEST_F(OperatorControlsDaemonTest, RefusalsAreClearAndChangeNothing) {
  const uint64_t n = LiveEdgeNumber(1s);
  ASSERT_EQ(daemon_->Put(Url(n), Segment(n), As("a"))->status, 201);
  const std::string path = "v/" + std::to_string(n) + ".m4s";

  EXPECT_EQ(Admin("POST", "/admin/events/oc/pipelines/a/disable", "").status, 401);
  EXPECT_EQ(Admin("POST", "/admin/events/oc/pipelines/a/disable", "wrong").status, 403);
  EXPECT_EQ(Admin("POST", "/admin/events/oc/objects/" + path + "?select=b", "").status, 401);
  struct Case {
    std::string method, target;
    int status;
    const char* code;
  } cases[] = {
      {"POST", "/admin/events/none/pipelines/a/disable", 404, "unknown_event"},
      {"POST", "/admin/events/oc/pipelines/c/disable", 404, "unknown_pipeline"},
      {"GET", "/admin/events/oc/pipelines/a/disable", 405, "method_not_allowed"},
      {"POST", "/admin/events/oc/objects/" + path, 400, "bad_request"},
      {"POST", "/admin/events/oc/objects/" + path + "?select=c", 400, "unknown_pipeline"},
      {"POST", "/admin/events/oc/objects/" + path + "?select=b", 404, "no_candidate"},
      {"POST", "/admin/events/oc/objects/missing.mpd?select=a", 404, "unknown_object"},
  };
  for (const auto& c : cases) {
    const HttpResponse r = Admin(c.method, c.target);
    EXPECT_EQ(r.status, c.status) << c.target << ": " << r.body;
    const json body = json::parse(r.body);
    EXPECT_EQ(body["error"], c.code) << c.target;
    EXPECT_FALSE(body["message"].get<std::string>().empty()) << c.target;
  }
  const json status = AdminJson("GET", "/admin/events/oc");
  EXPECT_TRUE(status["operator"]["audit"].empty());
  EXPECT_TRUE(status["operator"]["disabled_pipelines"].empty());
  EXPECT_NE(Metrics().find("liveorigin_operator_actions_total{action=\"disable\",event=\"oc\"} 0"),
            std::string::npos);
}

}  // namespace
}  // namespace liveorigin::testing
