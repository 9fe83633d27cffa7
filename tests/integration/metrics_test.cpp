// /metrics before anything happened (SPEC §6): every counter family whose
// labels are known exists at 0, so alerts and rate() see the first event.
#include <gtest/gtest.h>

#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

TEST(MetricsTest, CounterSeriesExistAtZeroFromTheStart) {
  TestDaemon daemon("MetricsAtZero");
  daemon.WriteEvent("live",
                    "id: live\n"
                    "segment_duration: 2s\n"
                    "media_template: \"$RepresentationID$/$Number$.m4s\"\n"
                    "pipelines: [{id: a, token: ta}, {id: b, token: tb}]\n");
  ASSERT_TRUE(daemon.Start());
  auto m = daemon.Admin("/metrics");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  for (const std::string series : {
           "liveorigin_storage_errors_total{operation=\"put\"} 0",
           "liveorigin_storage_errors_total{operation=\"get\"} 0",
           "liveorigin_storage_errors_total{operation=\"selection\"} 0",
           "liveorigin_storage_errors_total{operation=\"retention\"} 0",
           "liveorigin_config_reloads_total{result=\"error\"} 0",
           "liveorigin_held_requests_total{outcome=\"timeout\"} 0",
           "liveorigin_put_refused_total{event=\"live\",reason=\"forbidden\"} 0",
           "liveorigin_put_refused_total{event=\"live\",reason=\"out_of_window\"} 0",
           "liveorigin_selections_total{event=\"live\",pipeline=\"b\"} 0",
           "liveorigin_defects_total{event=\"live\",pipeline=\"a\",type=\"corrupt\"} 0",
           "liveorigin_shed_requests_total{event=\"live\"} 0",
       }) {
    EXPECT_NE(m->body.find(series), std::string::npos) << series << "\n" << m->body;
  }
  // A refusal moves its series from 0 to 1.
  ASSERT_EQ(daemon.Put("/live/x.mpd", "x", {{"Authorization", BasicAuth("a", "wrong")}})->status,
            403);
  auto after = daemon.Admin("/metrics");
  ASSERT_TRUE(after);
  EXPECT_NE(after->body.find("liveorigin_put_refused_total{event=\"live\",reason=\"forbidden\"} 1"),
            std::string::npos)
      << after->body;
}

}  // namespace
}  // namespace liveorigin::testing
