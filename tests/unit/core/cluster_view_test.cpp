// The cluster view of /admin/events/{id} (SPEC §10): node reports in, what
// each node knows of one event out. Pure functions of the admin module.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "liveorigin/admin/event_views.h"
#include "liveorigin/core/live_event.h"
#include "memory_segment_store.h"

namespace liveorigin::admin {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

config::EventConfig Config(std::vector<std::string> pipelines) {
  config::EventConfig cfg;
  cfg.id = "ev";
  cfg.availability_start_time = std::chrono::system_clock::time_point(0s);
  cfg.start_number = 1;
  cfg.segment_duration = 1s;
  cfg.dvr_window = 60s;
  cfg.media_template = config::SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value();
  cfg.init_template = config::SegmentTemplate::Compile("$RepresentationID$/init.mp4").value();
  for (auto& p : pipelines) cfg.pipelines.push_back({std::move(p), std::nullopt});
  return cfg;
}

class ClusterViewTest : public ::testing::Test {
 protected:
  std::unique_ptr<core::LiveEvent> Event(std::vector<std::string> pipelines) {
    return std::make_unique<core::LiveEvent>(
        std::make_shared<const config::EventConfig>(Config(std::move(pipelines))), store_);
  }
  std::shared_ptr<storage::MemorySegmentStore> store_ =
      std::make_shared<storage::MemorySegmentStore>();
  const TimePoint now_ = TimePoint(1000s);
};

TEST_F(ClusterViewTest, EachNodeWithItsAgeStalenessAndWhetherItSharesTheConfig) {
  auto local = Event({"a", "b"});
  auto other_order = Event({"b", "a"});
  const std::vector<std::string> reports = {
      // Written 1 s ago by a node with the same event file.
      NodeReportJson("node-b", {local->View(now_ - 1s)}, now_ - 1s).dump(),
      // A node whose event file lists the pipelines in another order.
      NodeReportJson("node-c", {other_order->View(now_)}, now_).dump(),
      // A node that stopped reporting a minute ago.
      NodeReportJson("node-a", {local->View(now_ - 60s)}, now_ - 60s).dump(),
      // A node without the event.
      NodeReportJson("node-d", {}, now_).dump(),
      "not json",
  };
  const json view = ClusterViewJson(local->View(now_), reports, now_);
  ASSERT_TRUE(view.is_array());
  ASSERT_EQ(view.size(), 5u) << view.dump(2);
  EXPECT_EQ(view[0]["node"], "node-a");
  EXPECT_EQ(view[0]["stale"], true);
  EXPECT_DOUBLE_EQ(view[0]["age_seconds"].get<double>(), 60.0);
  EXPECT_EQ(view[0]["same_config"], true);
  EXPECT_EQ(view[1]["node"], "node-b");
  EXPECT_EQ(view[1]["stale"], false);
  EXPECT_EQ(view[1]["knows_event"], true);
  EXPECT_EQ(view[1]["same_config"], true);
  EXPECT_EQ(view[1]["live_edge"], 999) << "the edge as node-b saw it 1 s ago";
  ASSERT_EQ(view[1]["pipelines"].size(), 2u);
  EXPECT_EQ(view[1]["pipelines"][0]["id"], "a");
  EXPECT_EQ(view[2]["node"], "node-c");
  EXPECT_EQ(view[2]["same_config"], false);
  EXPECT_EQ(view[3]["node"], "node-d");
  EXPECT_EQ(view[3]["knows_event"], false);
  EXPECT_FALSE(view[3].contains("same_config"));
  EXPECT_TRUE(view[4]["node"].is_null());
  EXPECT_TRUE(view[4].contains("error"));
}

TEST_F(ClusterViewTest, StaleOnlyPastThreeReportIntervals) {
  auto local = Event({"a"});
  const auto just_in = now_ - kNodeReportStaleAfter;
  const auto just_out = just_in - 1ms;
  const json view =
      ClusterViewJson(local->View(now_),
                      {NodeReportJson("in", {local->View(just_in)}, just_in).dump(),
                       NodeReportJson("out", {local->View(just_out)}, just_out).dump()},
                      now_);
  ASSERT_EQ(view.size(), 2u);
  EXPECT_EQ(view[0]["node"], "in");
  EXPECT_EQ(view[0]["stale"], false);
  EXPECT_EQ(view[1]["stale"], true);
}

TEST_F(ClusterViewTest, ReportNamesTheNodeTheTimeAndEveryPipeline) {
  auto local = Event({"a", "b"});
  const json r = NodeReportJson("node-x", {local->View(now_)}, now_);
  EXPECT_EQ(r["node"], "node-x");
  EXPECT_EQ(r["at_unix_ms"], 1000000);
  const json& ev = r["events"]["ev"];
  EXPECT_EQ(ev["live_edge"], 1000);
  EXPECT_EQ(ev["config"]["pipelines"], json({"a", "b"}));
  EXPECT_EQ(ev["config"]["segment_duration_seconds"], 1.0);
  ASSERT_EQ(ev["pipelines"].size(), 2u);
  EXPECT_EQ(ev["pipelines"][1]["id"], "b");
  EXPECT_EQ(ev["pipelines"][1]["state"], "stalled") << "nothing PUT yet";
  EXPECT_TRUE(ev["pipelines"][1]["last_number"].is_null());
}

}  // namespace
}  // namespace liveorigin::admin
