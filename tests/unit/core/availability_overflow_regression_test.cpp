// Regression (found by tests/fuzz/http_request_fuzz): a GET for a huge segment
// number overflowed LiveTimeline::AvailabilityTime. The media template accepts
// any number up to 2^63-1; AST + (n - start + 1)·d overflows int64 milliseconds
// for n near 2^63 and int64 nanoseconds (system_clock) from n ≈ 3.8·10^9 with
// d = 2 s. That is undefined behaviour (a UBSan abort in the asan preset); in a
// release build the time wraps into the past, and the far-future segment was
// answered "no pipeline delivered this segment" with max-age=1 instead of "not
// available yet".
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/live_timeline.h"
#include "liveorigin/core/origin_service.h"
#include "liveorigin/core/scheduler.h"
#include "memory_segment_store.h"

namespace liveorigin::core {
namespace {

using namespace std::chrono_literals;

const TimePoint kAst = TimePoint(1'700'000'000s);
constexpr uint64_t kMaxNumber = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

config::EventConfig Event() {
  config::EventConfig cfg;
  cfg.id = "ev";
  cfg.availability_start_time = kAst;
  cfg.start_number = 1;
  cfg.segment_duration = 2s;
  cfg.dvr_window = 20s;
  cfg.media_template = config::SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value();
  cfg.pipelines = {{"a", std::nullopt}};
  return cfg;
}

TEST(AvailabilityOverflowRegressionTest, AvailabilityTimeGrowsWithTheNumber) {
  const LiveTimeline tl(Event());
  TimePoint previous = tl.AvailabilityTime(1);
  EXPECT_EQ(previous, kAst + 2s);
  for (uint64_t n : {uint64_t{1'000'000'000}, uint64_t{3'800'000'000}, uint64_t{5'000'000'000},
                     uint64_t{1} << 40, kMaxNumber / 2000, kMaxNumber / 2, kMaxNumber}) {
    const TimePoint t = tl.AvailabilityTime(n);
    EXPECT_GE(t, previous) << "segment " << n << " becomes available before a lower number";
    EXPECT_GT(t, kAst + 24h) << "segment " << n;
    previous = t;
  }
}

class IdleScheduler final : public Scheduler {
 public:
  void RunAfter(Millis, std::function<void()> fn) override { tasks_.push_back(std::move(fn)); }
  size_t pending() const { return tasks_.size(); }

 private:
  std::vector<std::function<void()>> tasks_;
};

TEST(AvailabilityOverflowRegressionTest, FarFutureSegmentIsNotYetAvailable) {
  auto store = std::make_shared<storage::MemorySegmentStore>();
  EventRegistry registry(store);
  registry.Apply({Event()});
  BodyCache cache(1 << 20);
  metrics::OriginMetrics metrics;
  ManualClock clock(kAst + 60s);
  IdleScheduler scheduler;
  InlineTaskRunner inline_runner;
  auto service_ptr = std::make_shared<OriginService>(
      registry, *store, cache, metrics, clock,
      OriginExecutors{inline_runner, inline_runner, scheduler}, OriginOptions{});
  OriginService& service = *service_ptr;

  for (uint64_t n : {uint64_t{5'000'000'000}, kMaxNumber}) {
    Request req;
    req.method = "GET";
    req.target = "/ev/v/" + std::to_string(n) + ".m4s";
    std::optional<Response> answer;
    service.Handle(req, [&answer](Response r) { answer = std::move(r); });
    ASSERT_TRUE(answer.has_value()) << req.target << " was held";
    EXPECT_EQ(answer->status, 404) << req.target;
    EXPECT_NE(answer->BodyView().find("not available yet"), std::string_view::npos)
        << req.target << ": " << answer->BodyView();
    EXPECT_NE(answer->Header("Cache-Control").value_or(""), "public, max-age=1") << req.target;
  }
  EXPECT_EQ(scheduler.pending(), 0u);
}

}  // namespace
}  // namespace liveorigin::core
