// Operator controls (SPEC §12) without sockets: the store is the authority
// (a restart keeps every decision), a failed write changes nothing, and the
// admin endpoints drive selection as the rules say.
#include "liveorigin/core/operator_controls.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fault_injecting_segment_store.h"
#include "liveorigin/admin/admin_service.h"
#include "liveorigin/core/origin_service.h"
#include "manual_scheduler.h"
#include "memory_segment_store.h"
#include "origin_harness.h"

namespace liveorigin::core {
namespace {

using namespace liveorigin::testing;
using nlohmann::json;

const OperatorControls::Actor kActor{"10.0.0.9:5555", "sha256:0123456789ab"};

storage::ForcedSelectionRecord Forced(const std::string& path, const std::string& pipeline,
                                      std::optional<uint64_t> number = std::nullopt) {
  storage::ForcedSelectionRecord f;
  f.event = "ev";
  f.path = path;
  f.rendition = "v";
  f.number = number;
  f.pipeline = pipeline;
  f.etag = "etag-" + pipeline;
  f.previous_pipeline = "a";
  f.previous_etag = "etag-a";
  return f;
}

TEST(OperatorControlsTest, EveryChangeIsStoredAndRestoredWithItsAudit) {
  auto store = std::make_shared<storage::MemorySegmentStore>();
  {
    OperatorControls controls(store, "node-1");
    bool changed = false;
    ASSERT_TRUE(controls.SetPipelineDisabled("ev", "a", true, kActor, kAst, &changed).ok());
    EXPECT_TRUE(changed);
    ASSERT_TRUE(controls.SetPipelineDisabled("ev", "a", true, kActor, kAst, &changed).ok());
    EXPECT_FALSE(changed) << "already disabled: no write, no audit";
    ASSERT_TRUE(controls.Force(Forced("v/5.m4s", "b", 5), kActor, kAst, &changed).ok());
    EXPECT_TRUE(changed);
    ASSERT_TRUE(controls.Force(Forced("manifest.mpd", "b"), kActor, kAst, &changed).ok());
    EXPECT_EQ(controls.RecentAudit("ev", 10).size(), 3u);
  }
  OperatorControls restarted(store, "node-2");
  ASSERT_TRUE(restarted.Restore().ok());
  const auto state = restarted.StateOf("ev");
  EXPECT_TRUE(state->IsDisabled("a"));
  EXPECT_FALSE(state->IsDisabled("b"));
  ASSERT_NE(state->ForcedFor("v/5.m4s"), nullptr);
  EXPECT_EQ(state->ForcedFor("v/5.m4s")->pipeline, "b");
  EXPECT_EQ(state->ForcedFor("v/5.m4s")->changed.remote, kActor.remote);
  ASSERT_NE(state->ForcedFor("manifest.mpd"), nullptr);
  const auto audit = restarted.RecentAudit("ev", 10);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].action, "disable");
  EXPECT_EQ(audit[0].actor.node, "node-1");
  EXPECT_EQ(audit[0].actor.token_id, kActor.token_id);
  EXPECT_EQ(audit[1].action, "select");
  EXPECT_EQ(audit[1].old_etag, "etag-a");
  EXPECT_EQ(audit[1].new_etag, "etag-b");

  bool changed = false;
  ASSERT_TRUE(restarted.SetPipelineDisabled("ev", "a", false, kActor, kAst, &changed).ok());
  OperatorControls again(store, "node-3");
  ASSERT_TRUE(again.Restore().ok());
  EXPECT_FALSE(again.StateOf("ev")->IsDisabled("a")) << "enable is persisted too";
}

TEST(OperatorControlsTest, AFailedWriteChangesNothing) {
  auto memory = std::make_shared<storage::MemorySegmentStore>();
  auto faulty = std::make_shared<storage::FaultInjectingSegmentStore>(memory);
  OperatorControls controls(faulty, "n");
  faulty->FailNextWrites(2);
  bool changed = true;
  EXPECT_FALSE(controls.SetPipelineDisabled("ev", "a", true, kActor, kAst, &changed).ok());
  EXPECT_FALSE(changed);
  EXPECT_FALSE(controls.Force(Forced("x.mpd", "b"), kActor, kAst, &changed).ok());
  EXPECT_FALSE(controls.StateOf("ev")->IsDisabled("a"));
  EXPECT_EQ(controls.StateOf("ev")->ForcedFor("x.mpd"), nullptr);
  EXPECT_TRUE(controls.RecentAudit("ev", 10).empty());
  OperatorControls restarted(memory, "n");
  ASSERT_TRUE(restarted.Restore().ok());
  EXPECT_FALSE(restarted.StateOf("ev")->IsDisabled("a"));
}

TEST(OperatorControlsTest, RetentionForgetsForcedSelectionsInStoreAndMemory) {
  auto store = std::make_shared<storage::MemorySegmentStore>();
  OperatorControls controls(store, "n");
  bool changed = false;
  ASSERT_TRUE(controls.Force(Forced("v/5.m4s", "b", 5), kActor, kAst, &changed).ok());
  ASSERT_TRUE(controls.Force(Forced("v/9.m4s", "b", 9), kActor, kAst, &changed).ok());
  ASSERT_TRUE(controls.Force(Forced("old.mpd", "b"), kActor, kAst, &changed).ok());
  ASSERT_TRUE(store->DeleteSegmentsBefore("ev", "v", 6).ok());
  ASSERT_TRUE(store->DeleteObject("ev", "old.mpd").ok());
  EXPECT_TRUE(controls.ForgetSegmentsBefore("ev", "v", 6));
  EXPECT_TRUE(controls.ForgetObject("ev", "old.mpd"));
  EXPECT_FALSE(controls.ForgetObject("ev", "old.mpd"));
  EXPECT_EQ(controls.StateOf("ev")->forced.size(), 1u);
  OperatorControls restarted(store, "n");
  ASSERT_TRUE(restarted.Restore().ok());
  EXPECT_EQ(restarted.StateOf("ev")->forced.size(), 1u);
  EXPECT_NE(restarted.StateOf("ev")->ForcedFor("v/9.m4s"), nullptr);
}

TEST(OperatorControlsTest, AnEventNeverGoesBackToOlderControls) {
  auto store = std::make_shared<storage::MemorySegmentStore>();
  EventRegistry registry(store);
  registry.Apply({EvConfig()});
  auto newer = std::make_shared<EventControlState>();
  newer->version = 5;
  newer->disabled = {"a"};
  auto older = std::make_shared<EventControlState>();
  older->version = 4;
  auto event = registry.Find("ev");
  event->SetControls(newer);
  event->SetControls(older);
  // Segment 1 from both; after grace, "a" would win unless it is disabled.
  ManualClock clock(Avail(1) + 1s);
  std::vector<WaitList::Wake> wake;
  ASSERT_TRUE(event
                  ->Ingest(*event->Classify(Path(1)), "a", std::make_shared<std::string>(Seg(1)),
                           {}, "", Avail(1), &wake)
                  .status.ok());
  ASSERT_TRUE(event
                  ->Ingest(*event->Classify(Path(1)), "b", std::make_shared<std::string>(Seg(1, 1)),
                           {}, "", Avail(1), &wake)
                  .status.ok());
  EXPECT_EQ(event->Resolve(*event->Classify(Path(1)), clock.Now()).record.id.pipeline, "b");
}

// ---------------------------------------------------------------------------
// Through the admin endpoints and the origin.

class OperatorApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override {
    scheduler_.Clear();
    admin_.reset();
    service_.reset();
  }

  // (Re)builds everything above the store, as a restart does.
  void Start() {
    scheduler_.Clear();
    admin_.reset();
    service_.reset();
    registry_ = std::make_unique<EventRegistry>(store_);
    registry_->Apply({EvConfig()});
    size_t restored = 0, skipped = 0;
    ASSERT_TRUE(registry_->Rebuild(&restored, &skipped).ok());
    controls_ = std::make_unique<OperatorControls>(store_, "node-x");
    ASSERT_TRUE(controls_->Restore().ok());
    controls_->Publish(*registry_);
    cache_ = std::make_unique<BodyCache>(64 << 20);
    service_ = std::make_shared<OriginService>(*registry_, *store_, *cache_, metrics_, clock_,
                                               OriginExecutors{inline_, inline_, scheduler_},
                                               OriginOptions{});
    admin_ = std::make_unique<admin::AdminService>(
        *registry_, *store_, metrics_, clock_, inline_, [] { return std::vector<std::string>{}; },
        std::string("admin-secret"), controls_.get());
  }

  std::shared_ptr<Reply> Admin(const std::string& method, const std::string& target,
                               bool with_token = true) {
    HeaderList headers;
    if (with_token) headers.emplace_back("Authorization", "Bearer admin-secret");
    return Call(*admin_, method, target, headers);
  }
  json AdminJson(const std::string& method, const std::string& target, int expect = 200) {
    auto r = Admin(method, target);
    EXPECT_EQ(r->status(), expect) << r->body();
    return json::parse(r->body());
  }
  std::shared_ptr<Reply> Get(uint64_t n) { return Call(*service_, "GET", "/ev/" + Path(n)); }
  void PutBoth(uint64_t n) {
    ASSERT_EQ(PutThrough(*service_, "a", Path(n), Seg(n)).status, 201);
    ASSERT_EQ(PutThrough(*service_, "b", Path(n), Seg(n, 1)).status, 201);
  }

  std::shared_ptr<storage::MemorySegmentStore> store_ =
      std::make_shared<storage::MemorySegmentStore>();
  metrics::OriginMetrics metrics_;
  ManualClock clock_{kAst};
  ManualScheduler scheduler_{clock_};
  std::unique_ptr<EventRegistry> registry_;
  std::unique_ptr<OperatorControls> controls_;
  std::unique_ptr<BodyCache> cache_;
  InlineTaskRunner inline_;
  std::shared_ptr<OriginService> service_;
  std::unique_ptr<admin::AdminService> admin_;
};

TEST_F(OperatorApiTest, DisableTakesAPipelineOutOfNewAnswersOnly) {
  scheduler_.AdvanceTo(Avail(1) + 1s);
  PutBoth(1);
  PutBoth(2);
  ASSERT_EQ(Get(1)->header("X-Live-Pipeline"), "a");  // served: sticky

  const json j = AdminJson("POST", "/admin/events/ev/pipelines/a/disable");
  EXPECT_EQ(j["changed"], true);
  EXPECT_EQ(j["disabled_pipelines"], json::array({"a"}));
  EXPECT_EQ(Get(1)->header("X-Live-Pipeline"), "a") << "a sticky answer stays";
  EXPECT_EQ(Get(2)->header("X-Live-Pipeline"), "b") << "not yet served: never the disabled one";
  EXPECT_EQ(PutThrough(*service_, "a", Path(3), Seg(3)).status, 201) << "its PUTs are stored";

  const json status = AdminJson("GET", "/admin/events/ev");
  EXPECT_EQ(status["pipelines"][0]["disabled"], true);
  EXPECT_EQ(status["pipelines"][1]["disabled"], false);
  ASSERT_EQ(status["operator"]["audit"].size(), 1u);
  EXPECT_EQ(status["operator"]["audit"][0]["action"], "disable");
  EXPECT_EQ(status["operator"]["audit"][0]["remote"], "127.0.0.1:6000");
  EXPECT_EQ(status["operator"]["audit"][0]["token_id"],
            admin::AdminTokenId(std::string("admin-secret")));
  EXPECT_NE(metrics_.Render().find(
                "liveorigin_operator_actions_total{action=\"disable\",event=\"ev\"} 1"),
            std::string::npos);

  // A restart keeps it disabled.
  Start();
  scheduler_.AdvanceTo(Avail(3) + 1s);
  ASSERT_EQ(PutThrough(*service_, "b", Path(3), Seg(3, 1)).status, 201);
  EXPECT_EQ(Get(3)->header("X-Live-Pipeline"), "b");

  EXPECT_EQ(AdminJson("POST", "/admin/events/ev/pipelines/a/enable")["changed"], true);
  PutBoth(4);
  scheduler_.AdvanceTo(Avail(4) + 1s);
  EXPECT_EQ(Get(4)->header("X-Live-Pipeline"), "a");
}

TEST_F(OperatorApiTest, SelectReplacesAStickyChoiceAndNamesBothETags) {
  scheduler_.AdvanceTo(Avail(1) + 1s);
  PutBoth(1);
  auto first = Get(1);
  ASSERT_EQ(first->header("X-Live-Pipeline"), "a");
  const std::string etag_a = first->header("ETag");

  const json j = AdminJson("POST", "/admin/events/ev/objects/" + Path(1) + "?select=b");
  EXPECT_EQ(j["changed"], true);
  EXPECT_EQ(j["previous_pipeline"], "a");
  EXPECT_EQ("\"" + j["old_etag"].get<std::string>() + "\"", etag_a);
  auto after = Get(1);
  EXPECT_EQ(after->header("X-Live-Pipeline"), "b");
  EXPECT_EQ(after->header("ETag"), "\"" + j["new_etag"].get<std::string>() + "\"");
  EXPECT_NE(after->header("ETag"), etag_a);

  // The forced candidate is as fixed as a sticky one.
  EXPECT_EQ(PutThrough(*service_, "b", Path(1), Seg(1, 2)).status, 409);
  // Shown in the object view.
  const json view = AdminJson("GET", "/admin/events/ev/objects/" + Path(1));
  EXPECT_EQ(view["forced"]["pipeline"], "b");
  EXPECT_EQ(view["selected"], "b");
  // Same again: nothing changes.
  EXPECT_EQ(AdminJson("POST", "/admin/events/ev/objects/" + Path(1) + "?select=b")["changed"],
            false);

  Start();
  EXPECT_EQ(Get(1)->header("X-Live-Pipeline"), "b") << "a restart keeps the forced selection";
}

TEST_F(OperatorApiTest, SelectWorksForObjectsWithoutNumbers) {
  scheduler_.AdvanceTo(Avail(1) + 1s);
  PutBoth(1);  // both healthy
  ASSERT_EQ(PutThrough(*service_, "a", "manifest.mpd", "<MPD a/>").status, 201);
  ASSERT_EQ(PutThrough(*service_, "b", "manifest.mpd", "<MPD b/>").status, 201);
  EXPECT_EQ(Call(*service_, "GET", "/ev/manifest.mpd")->body(), "<MPD a/>");
  AdminJson("POST", "/admin/events/ev/objects/manifest.mpd?select=b");
  EXPECT_EQ(Call(*service_, "GET", "/ev/manifest.mpd")->body(), "<MPD b/>");
  // Later manifests of b keep being served.
  ASSERT_EQ(PutThrough(*service_, "b", "manifest.mpd", "<MPD b2/>").status, 204);
  EXPECT_EQ(Call(*service_, "GET", "/ev/manifest.mpd")->body(), "<MPD b2/>");
}

TEST_F(OperatorApiTest, BadRequestsGetClearErrorsAndChangeNothing) {
  scheduler_.AdvanceTo(Avail(1) + 1s);
  ASSERT_EQ(PutThrough(*service_, "a", Path(1), Seg(1)).status, 201);
  struct Case {
    std::string method, target;
    int status;
    std::string code;
  } cases[] = {
      {"POST", "/admin/events/nope/pipelines/a/disable", 404, "unknown_event"},
      {"POST", "/admin/events/ev/pipelines/zz/disable", 404, "unknown_pipeline"},
      {"GET", "/admin/events/ev/pipelines/a/disable", 405, "method_not_allowed"},
      {"POST", "/admin/events/ev/objects/" + Path(1), 400, "bad_request"},
      {"POST", "/admin/events/ev/objects/" + Path(1) + "?select=", 400, "bad_request"},
      {"POST", "/admin/events/ev/objects/" + Path(1) + "?select=zz", 400, "unknown_pipeline"},
      {"POST", "/admin/events/ev/objects/" + Path(2) + "?select=a", 404, "unknown_object"},
      {"POST", "/admin/events/ev/objects/" + Path(1) + "?select=b", 404, "no_candidate"},
      {"POST", "/admin/events/nope/objects/x.mpd?select=a", 404, "unknown_event"},
  };
  for (const auto& c : cases) {
    auto r = Admin(c.method, c.target);
    EXPECT_EQ(r->status(), c.status) << c.target << ": " << r->body();
    const json j = json::parse(r->body());
    EXPECT_EQ(j["error"], c.code) << c.target;
    EXPECT_FALSE(j["message"].get<std::string>().empty());
  }
  EXPECT_EQ(Admin("POST", "/admin/events/ev/pipelines/a/disable", false)->status(), 401);
  EXPECT_TRUE(controls_->RecentAudit("ev", 10).empty());
  EXPECT_FALSE(controls_->StateOf("ev")->IsDisabled("a"));
}

}  // namespace
}  // namespace liveorigin::core
