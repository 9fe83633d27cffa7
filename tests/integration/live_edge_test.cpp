// Live-edge behaviour of the real daemon with short segments (d = 200 ms):
// holds, immediate answers, DVR expiry and shedding. Retention is in
// lifecycle_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kD = 200ms;

// hold.max_wait is long where a test needs requests to stay held while it
// works (a busy machine may take seconds to open 200 connections); the
// requests are then released by a PUT, never by the clock.
std::string EventYaml(const std::string& hold = "1s", const std::string& dvr = "2s") {
  return "id: fast\n"
         "segment_duration: 200ms\n"
         "dvr_window: " +
         dvr +
         "\n"
         "media_template: \"$RepresentationID$/$Number$.m4s\"\n"
         "pipelines:\n  - {id: a}\n"
         "hold: {max_wait: " +
         hold +
         "}\n"
         "preferred_grace: 0ms\n"
         "ingest_ahead: 5\n";
}

std::string Seg(uint64_t n) { return "/fast/v/" + std::to_string(n) + ".m4s"; }

const std::vector<std::pair<std::string, std::string>> kA{{"X-Live-Pipeline", "a"}};

class LiveEdgeTest : public ::testing::Test {
 protected:
  void StartDaemon(const std::string& event_yaml = EventYaml(),
                   const std::string& server_extra = "") {
    daemon_ = std::make_unique<TestDaemon>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), server_extra);
    daemon_->WriteEvent("fast", event_yaml);
    ASSERT_TRUE(daemon_->Start());
  }
  std::unique_ptr<TestDaemon> daemon_;
};

TEST_F(LiveEdgeTest, OnePutReleasesTwoHundredHeldGets) {
  RaiseFileLimit(1024);
  StartDaemon(EventYaml("60s", "60s"));
  const uint64_t next = LiveEdgeNumber(kD) + 1;  // due within one d: held
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<HttpClient>("127.0.0.1", daemon_->port()));
    ASSERT_TRUE(clients.back()->Connect());
    ASSERT_TRUE(clients.back()->SendRaw("GET " + Seg(next) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  ASSERT_TRUE(daemon_->WaitForHeld(kClients)) << "all requests are held before the PUT";
  const std::string body = RandomBytes(64 * 1024, 7);
  auto put = daemon_->Put(Seg(next), body, kA);
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 201);
  // A 200 can only come from the PUT: the hold would end in a 404 (after 60 s).
  // How fast they are released is measured by scripts/bench.sh, not asserted.
  for (auto& c : clients) {
    auto r = c->ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, body);
    EXPECT_FALSE(r->Header("X-Live-Held-Ms").empty());
  }
  EXPECT_TRUE(daemon_->WaitForHeld(0));
  EXPECT_EQ(daemon_->Metric(R"(liveorigin_held_requests_total{outcome="released"})"), kClients);
}

TEST_F(LiveEdgeTest, HoldTimesOutWith404MaxAge1) {
  StartDaemon();
  const uint64_t next = LiveEdgeNumber(kD) + 1;
  const auto start = Clock::now();
  auto r = daemon_->Get(Seg(next));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->Header("Cache-Control"), "public, max-age=1");
  EXPECT_GE(Clock::now() - start, 1s) << "held for hold.max_wait, never less";
  EXPECT_GE(std::stoi(r->Header("X-Live-Held-Ms")), 1000);
  EXPECT_EQ(daemon_->Metric(R"(liveorigin_held_requests_total{outcome="timeout"})"), 1);
}

TEST_F(LiveEdgeTest, FarFutureExpiredAndNeverDeliveredAnswerAtOnce) {
  // d = 200 ms, DVR 10 s, hold 2 s.
  StartDaemon(EventYaml("2s", "10s"));
  const uint64_t edge = LiveEdgeNumber(kD);
  using std::chrono::system_clock;
  const auto t0 = system_clock::now();
  auto future = daemon_->Get(Seg(edge + 50));  // available 10.2 s after edge's time
  const auto t1 = system_clock::now();
  ASSERT_TRUE(future);
  EXPECT_EQ(future->status, 404);
  // max-age = seconds until it is available, rounded up, at the moment of the answer.
  const auto available = system_clock::time_point(kD * static_cast<int64_t>(edge + 51));
  auto ceil_seconds = [](system_clock::duration d) {
    return static_cast<int>(std::ceil(std::chrono::duration<double>(d).count()));
  };
  const int max_age =
      std::stoi(future->Header("Cache-Control").substr(std::string("public, max-age=").size()));
  EXPECT_GE(max_age, ceil_seconds(available - t1));
  EXPECT_LE(max_age, ceil_seconds(available - t0));
  auto gone = daemon_->Get(Seg(edge - 100));  // 20 s behind, DVR is 10 s
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 410);
  EXPECT_EQ(gone->Header("Cache-Control"), "public, max-age=10");
  auto never = daemon_->Get(Seg(edge - 20));  // due 4 s ago, hold window 2 s: never delivered
  ASSERT_TRUE(never);
  EXPECT_EQ(never->status, 404);
  EXPECT_EQ(never->Header("Cache-Control"), "public, max-age=1");
  // None of them waited: a held answer says how long it waited.
  for (const auto* r : {&future, &gone, &never}) EXPECT_EQ((*r)->Header("X-Live-Held-Ms"), "");
  EXPECT_EQ(daemon_->Metric(R"(liveorigin_held_requests_total{outcome="timeout"})").value_or(-1), 0)
      << "no hold timed out (the series exists at 0 from the start)";
  EXPECT_EQ(daemon_->Put(Seg(edge + 50), "x", kA)->status, 409);
  EXPECT_EQ(daemon_->Put(Seg(edge - 100), "x", kA)->status, 409);
}

TEST_F(LiveEdgeTest, SheddingKeepsTheLiveEdgeServed) {
  // d = 2 s here: "the live edge" must still be the live edge while the test
  // runs on a slow machine (shedding starts 3 segments behind it).
  StartDaemon(
      "id: fast\nsegment_duration: 2s\ndvr_window: 60s\n"
      "media_template: \"$RepresentationID$/$Number$.m4s\"\npipelines: [{id: a}]\n"
      "hold: {max_wait: 60s}\npreferred_grace: 0ms\ningest_ahead: 2\n",
      "limits: {max_inflight_requests: 4}\n");
  const uint64_t edge = LiveEdgeNumber(2s);
  ASSERT_EQ(daemon_->Put(Seg(edge - 6), "old", kA)->status, 201);
  ASSERT_EQ(daemon_->Put(Seg(edge), "edge", kA)->status, 201);
  // Raise in-flight GETs above the limit with requests held on the next segment.
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<HttpClient>("127.0.0.1", daemon_->port()));
    ASSERT_TRUE(held.back()->Connect());
    ASSERT_TRUE(held.back()->SendRaw("GET " + Seg(edge + 1) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  ASSERT_TRUE(daemon_->WaitForHeld(8));
  auto old = daemon_->Get(Seg(edge - 6));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->status, 503);
  EXPECT_EQ(old->Header("Retry-After"), "5");
  EXPECT_EQ(old->Header("Cache-Control"), "public, max-age=5");
  auto live = daemon_->Get(Seg(edge));
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(live->body, "edge");
  // The PUT of the next segment releases the held requests: the load is gone.
  ASSERT_EQ(daemon_->Put(Seg(edge + 1), "next", kA)->status, 201);
  for (auto& c : held) {
    auto r = c->ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  auto after = daemon_->Get(Seg(edge - 6));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200) << "no shedding once the load is gone";
  EXPECT_EQ(after->body, "old");
}

}  // namespace
}  // namespace liveorigin::testing
