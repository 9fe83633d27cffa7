// OriginService without sockets: PUT range checks and statuses (SPEC §4.5), GET
// statuses and cache lifetimes (SPEC §5.2, §5.3), held requests, preferred
// grace, conditional and range requests, and live-edge protection (§5.4).
//
// Time is a ManualClock driven through ManualScheduler: no sleeping, no
// threads, no wall clock.
#include "liveorigin/core/origin_service.h"
#include "manual_scheduler.h"
#include "origin_harness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/scheduler.h"
#include "memory_segment_store.h"

namespace liveorigin::core {
namespace {

using namespace liveorigin::testing;  // harness: Reply, kAst, Avail, Path, Seg, Put/Call

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// The fixture: one event over an in-memory store, a manual clock and scheduler.

class OriginServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.Apply({EvConfig()});
    MakeService({});
  }

  void TearDown() override {
    // Held requests still pending keep closures alive in the scheduler; drop
    // them before the service goes.
    scheduler_.Clear();
    service_.reset();
  }

  void MakeService(OriginOptions options) {
    service_ =
        std::make_shared<OriginService>(registry_, *store_, cache_, metrics_, clock_,
                                        OriginExecutors{inline_, inline_, scheduler_}, options);
  }

  Response Put(const std::string& pipeline, const std::string& path, const std::string& body,
               HeaderList extra = {}, std::optional<uint64_t> content_length = std::nullopt) {
    return PutThrough(*service_, pipeline, path, body, std::move(extra), content_length);
  }

  std::shared_ptr<Reply> Get(const std::string& path, HeaderList headers = {},
                             const std::string& method = "GET", const std::string& event = "ev") {
    return Call(*service_, method, "/" + event + "/" + path, std::move(headers));
  }

  // Puts segment `n` from both pipelines at its availability time (clock moves).
  void PutBothAt(uint64_t n) {
    scheduler_.AdvanceTo(Avail(n));
    ASSERT_EQ(Put("a", Path(n), Seg(n)).status, 201);
    ASSERT_EQ(Put("b", Path(n), Seg(n, 1)).status, 201);
  }

  std::shared_ptr<storage::MemorySegmentStore> store_ =
      std::make_shared<storage::MemorySegmentStore>();
  EventRegistry registry_{store_};
  BodyCache cache_{64 << 20};
  metrics::OriginMetrics metrics_;
  ManualClock clock_{kAst};
  ManualScheduler scheduler_{clock_};
  InlineTaskRunner inline_;
  std::shared_ptr<OriginService> service_;
};

// ---------------------------------------------------------------------------
// The test double itself.

TEST(ManualSchedulerTest, RunsDueFunctionsInDueOrderAndMovesTheClock) {
  ManualClock clock(kAst);
  ManualScheduler s(clock);
  std::vector<std::pair<int, TimePoint>> ran;
  s.RunAfter(300ms, [&] { ran.emplace_back(3, clock.Now()); });
  s.RunAfter(100ms, [&] {
    ran.emplace_back(1, clock.Now());
    s.RunAfter(50ms, [&] { ran.emplace_back(2, clock.Now()); });  // due at 150 ms
  });
  s.RunAfter(300ms, [&] { ran.emplace_back(4, clock.Now()); });  // same due time: FIFO
  s.RunAfter(1s, [&] { ran.emplace_back(5, clock.Now()); });
  s.Advance(299ms);
  ASSERT_EQ(ran.size(), 2u);
  s.Advance(1ms);
  EXPECT_EQ(clock.Now(), kAst + 300ms);
  ASSERT_EQ(ran.size(), 4u);
  EXPECT_EQ(ran[0], std::make_pair(1, kAst + 100ms));
  EXPECT_EQ(ran[1], std::make_pair(2, kAst + 150ms));
  EXPECT_EQ(ran[2], std::make_pair(3, kAst + 300ms));
  EXPECT_EQ(ran[3], std::make_pair(4, kAst + 300ms));
  EXPECT_EQ(s.pending(), 1u);
}

// ---------------------------------------------------------------------------
// §5.2 / §5.3: future segments.

TEST_F(OriginServiceTest, FutureSegmentBeyondHoldWindowIs404AtOnceWithMaxAgeUntilAvailability) {
  // Just over one d ahead: 2.001 s → max-age=3 (rounded up).
  clock_.Set(Avail(5) - kD - 1ms);
  auto r = Get(Path(5));
  ASSERT_TRUE(r->done()) << "answered at once, not held";
  EXPECT_EQ(r->status(), 404);
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=3");
  EXPECT_EQ(metrics_.held_now(), 0);

  // Far ahead: segment 9 is available in 10.001 s.
  auto far = Get(Path(9));
  ASSERT_TRUE(far->done());
  EXPECT_EQ(far->status(), 404);
  EXPECT_EQ(far->header("Cache-Control"), "public, max-age=11");

  // Whole seconds ahead: exactly 4 s → max-age=4.
  clock_.Set(Avail(5) - 4s);
  auto exact = Get(Path(5));
  ASSERT_TRUE(exact->done());
  EXPECT_EQ(exact->status(), 404);
  EXPECT_EQ(exact->header("Cache-Control"), "public, max-age=4");

  // Even a segment that was PUT ahead (ingest_ahead) is 404 while beyond the
  // hold window.
  clock_.Set(Avail(4));
  ASSERT_EQ(Put("a", Path(6), Seg(6)).status, 201);
  clock_.Set(Avail(6) - kD - 1ms);
  auto present = Get(Path(6));
  ASSERT_TRUE(present->done());
  EXPECT_EQ(present->status(), 404);
  EXPECT_EQ(present->header("Cache-Control"), "public, max-age=3");
}

TEST_F(OriginServiceTest, FutureSegmentExactlyOneDurationAheadIsHeldUntilItsPut) {
  clock_.Set(Avail(5) - kD);
  auto r = Get(Path(5));
  EXPECT_FALSE(r->done()) << "exactly one d ahead is inside the hold window";
  EXPECT_EQ(metrics_.held_now(), 1);

  scheduler_.AdvanceTo(Avail(5));
  EXPECT_FALSE(r->done());
  ASSERT_EQ(Put("a", Path(5), Seg(5)).status, 201);
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("X-Live-Held-Ms"), "2000");
  EXPECT_EQ(r->header("X-Live-Pipeline"), "a");
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=22");
  EXPECT_EQ(r->body(), Seg(5));
  EXPECT_EQ(metrics_.held_now(), 0);
}

TEST_F(OriginServiceTest, FutureSegmentHeldAndNeverDeliveredTimesOutAfterMaxWait) {
  const TimePoint start = Avail(5) - kD;
  clock_.Set(start);
  auto r = Get(Path(5));
  scheduler_.AdvanceTo(start + 3s - 1ms);
  EXPECT_FALSE(r->done());
  scheduler_.AdvanceTo(start + 3s + 1ms);
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 404);
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=1");
}

// §5.2: held at the live edge.

TEST_F(OriginServiceTest, HeldRequestIsReleasedByThePut) {
  clock_.Set(Avail(5));
  auto r = Get(Path(5));
  EXPECT_FALSE(r->done());
  EXPECT_EQ(service_->inflight(), 1u);
  scheduler_.Advance(300ms);
  EXPECT_FALSE(r->done());

  const Response put = Put("a", Path(5), Seg(5));
  EXPECT_EQ(put.status, 201);
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("X-Live-Held-Ms"), "300");
  EXPECT_EQ(r->header("X-Live-Pipeline"), "a");
  EXPECT_EQ(r->header("X-Live-Defects"), "<absent>");
  EXPECT_EQ(r->header("Content-Type"), "video/iso.segment");
  EXPECT_EQ(r->header("ETag"), std::string(*put.Header("ETag")));
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=22") << "21.7 s left, rounded up";
  EXPECT_EQ(r->body(), Seg(5));
  EXPECT_EQ(service_->inflight(), 0u);
  EXPECT_EQ(metrics_.held_now(), 0);

  // The timeout that was armed does not answer a second time.
  scheduler_.Advance(10s);
  EXPECT_EQ(r->calls, 1);
  EXPECT_EQ(r->status(), 200);
}

TEST_F(OriginServiceTest, ManyHeldRequestsAreReleasedByOnePut) {
  constexpr int kHeld = 200;
  clock_.Set(Avail(5));
  std::vector<std::shared_ptr<Reply>> replies;
  for (int i = 0; i < kHeld; ++i) replies.push_back(Get(Path(5)));
  EXPECT_EQ(metrics_.held_now(), kHeld);
  EXPECT_EQ(service_->inflight(), uint64_t{kHeld});
  scheduler_.Advance(100ms);
  for (const auto& r : replies) ASSERT_FALSE(r->done());

  ASSERT_EQ(Put("a", Path(5), Seg(5)).status, 201);
  const Body first = replies.front()->response ? replies.front()->response->body : nullptr;
  ASSERT_TRUE(first);
  for (const auto& r : replies) {
    ASSERT_TRUE(r->done());
    EXPECT_EQ(r->calls, 1);
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(r->header("X-Live-Held-Ms"), "100");
    EXPECT_EQ(r->header("Cache-Control"), "public, max-age=22");
    EXPECT_EQ(r->response->body.get(), first.get()) << "one shared body, no copy per request";
  }
  EXPECT_EQ(*first, Seg(5));
  // Released one after another on this thread: at most the first reads the
  // store, the others find the body cached. Concurrent misses sharing one
  // storage read are pinned through the daemon, with the cache emptied by a
  // restart (CollapseTest.ConcurrentGetsShareOneStorageRead).
  EXPECT_LE(cache_.misses(), 1u) << "at most one storage read for all of them";
  EXPECT_EQ(metrics_.held_now(), 0);
  EXPECT_EQ(service_->inflight(), 0u);
  scheduler_.Advance(10s);
  for (const auto& r : replies) EXPECT_EQ(r->calls, 1);
}

TEST_F(OriginServiceTest, HoldTimesOutAfterMaxWaitWith404MaxAge1) {
  clock_.Set(Avail(5));
  auto r = Get(Path(5));
  scheduler_.AdvanceTo(Avail(5) + 3s - 1ms);
  EXPECT_FALSE(r->done());
  scheduler_.AdvanceTo(Avail(5) + 3s + 1ms);
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 404);
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=1");
  EXPECT_NE(r->header("X-Live-Held-Ms"), "<absent>");
  EXPECT_EQ(metrics_.held_now(), 0);
  EXPECT_EQ(service_->inflight(), 0u);

  // A late PUT does not answer the timed-out request again.
  ASSERT_EQ(Put("a", Path(5), Seg(5)).status, 201);
  EXPECT_EQ(r->calls, 1);
  EXPECT_EQ(r->status(), 404);
}

TEST_F(OriginServiceTest, TimedOutHeldRequestIsFreed) {
  clock_.Set(Avail(5));
  auto token = std::make_shared<int>(0);
  Request req;
  req.method = "GET";
  req.target = "/ev/" + Path(5);
  bool answered = false;
  service_->Handle(req, [token, &answered](Response) { answered = true; });
  scheduler_.Advance(3s + 1ms);
  ASSERT_TRUE(answered);
  EXPECT_EQ(scheduler_.pending(), 0u);
  EXPECT_EQ(token.use_count(), 1);
}

TEST_F(OriginServiceTest, PassedMoreThanMaxWaitAgoAndNeverDeliveredIs404AtOnce) {
  clock_.Set(Avail(5) + 3s);
  auto r = Get(Path(5));
  ASSERT_TRUE(r->done()) << "outside the hold window: not held";
  EXPECT_EQ(r->status(), 404);
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=1");

  auto older = Get(Path(3));
  ASSERT_TRUE(older->done());
  EXPECT_EQ(older->status(), 404);
  EXPECT_EQ(older->header("Cache-Control"), "public, max-age=1");
  EXPECT_EQ(metrics_.held_now(), 0);
}

TEST_F(OriginServiceTest, PassedLessThanMaxWaitAgoIsStillHeld) {
  clock_.Set(Avail(5) + 3s - 1ms);
  auto r = Get(Path(5));
  EXPECT_FALSE(r->done());
  ASSERT_EQ(Put("b", Path(5), Seg(5, 1)).status, 201);
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("X-Live-Pipeline"), "b");
  EXPECT_EQ(r->header("X-Live-Held-Ms"), "0");
}

TEST_F(OriginServiceTest, SegmentIsServedExactlyAtItsAvailabilityTime) {
  PutBothAt(5);  // clock at Avail(5)
  auto r = Get(Path(5));
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("X-Live-Pipeline"), "a");
  EXPECT_EQ(r->header("X-Live-Held-Ms"), "<absent>");
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=22");
  EXPECT_EQ(r->response->length, Seg(5).size());
  EXPECT_NE(r->header("Last-Modified"), "<absent>");
  EXPECT_EQ(r->header("Accept-Ranges"), "bytes");
}

// §5.2: DVR window and event start.

TEST_F(OriginServiceTest, OlderThanDvrWindowIs410AndTheDvrEdgeIsStillServed) {
  PutBothAt(4);
  PutBothAt(5);
  // At Avail(15) the live edge is 15 and the window starts at 15 - 20 s / 2 s = 5.
  clock_.Set(Avail(15));
  auto edge = Get(Path(5));
  ASSERT_TRUE(edge->done());
  EXPECT_EQ(edge->status(), 200);
  EXPECT_EQ(edge->header("Cache-Control"), "public, max-age=2")
      << "the oldest segment in the window answers 410 one segment duration from now";

  auto gone = Get(Path(4));
  ASSERT_TRUE(gone->done());
  EXPECT_EQ(gone->status(), 410);
  EXPECT_EQ(gone->header("Cache-Control"), "public, max-age=20");

  auto never = Get(Path(2));
  ASSERT_TRUE(never->done());
  EXPECT_EQ(never->status(), 410) << "gone whether or not it was delivered";
  EXPECT_EQ(never->header("Cache-Control"), "public, max-age=20");

  // One instant earlier segment 4 was still the first in the window.
  clock_.Set(Avail(15) - 1ms);
  auto before = Get(Path(4));
  ASSERT_TRUE(before->done());
  EXPECT_EQ(before->status(), 200);
}

TEST_F(OriginServiceTest, SegmentBeforeStartNumberOrEventStartIs404) {
  clock_.Set(Avail(10));
  auto r = Get(Path(0));
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 404);
  EXPECT_EQ(r->header("Cache-Control").rfind("public, max-age=", 0), 0u)
      << r->header("Cache-Control");

  // Before the event starts: segment 1 is 12 s away.
  clock_.Set(kAst - 10s);
  auto early = Get(Path(1));
  ASSERT_TRUE(early->done());
  EXPECT_EQ(early->status(), 404);
  EXPECT_EQ(early->header("Cache-Control"), "public, max-age=12");
  EXPECT_EQ(metrics_.held_now(), 0);
}

TEST_F(OriginServiceTest, UnknownEventAndObjectAre404) {
  auto event = Get("manifest.mpd", {}, "GET", "nope");
  ASSERT_TRUE(event->done());
  EXPECT_EQ(event->status(), 404);
  auto object = Get("nothing.mpd");
  ASSERT_TRUE(object->done());
  EXPECT_EQ(object->status(), 404);
  EXPECT_EQ(object->header("Cache-Control"), "public, max-age=1");
  auto padded = Get("v/05.m4s");
  ASSERT_TRUE(padded->done());
  EXPECT_EQ(padded->status(), 404) << "non-canonical number";
}

// §5.3: cache lifetimes.

TEST_F(OriginServiceTest, CleanSegmentLivesUntilItLeavesTheDvrWindow) {
  PutBothAt(5);
  clock_.Set(Avail(5) + 2500ms);
  auto r = Get(Path(5));
  ASSERT_EQ(r->status(), 200);
  // Segment 5 answers 410 from Avail(16) = Avail(5) + dvr_window + d = Avail(5) + 22 s.
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=20") << "19.5 s left";
  clock_.Set(Avail(5) + 10s);
  EXPECT_EQ(Get(Path(5))->header("Cache-Control"), "public, max-age=12");
  clock_.Set(Avail(16) - 1ms);
  EXPECT_EQ(Get(Path(5))->status(), 200);
  clock_.Set(Avail(16));
  EXPECT_EQ(Get(Path(5))->status(), 410);
}

TEST_F(OriginServiceTest, DefectiveSegmentLivesOneDurationAndSaysWhy) {
  scheduler_.AdvanceTo(Avail(5));
  const Response put = Put("a", Path(5), Seg(5), {{"X-Live-Defects", "slate"}});
  EXPECT_EQ(put.status, 201);
  EXPECT_EQ(put.Header("X-Live-Defects").value_or(""), "slate");

  // During grace the preferred pipeline's defective candidate is not served yet.
  auto held = Get(Path(5));
  EXPECT_FALSE(held->done());
  scheduler_.Advance(501ms);
  ASSERT_TRUE(held->done());
  EXPECT_EQ(held->status(), 200);
  EXPECT_EQ(held->header("Cache-Control"), "public, max-age=2");
  EXPECT_EQ(held->header("X-Live-Defects"), "slate");

  clock_.Set(Avail(5) + 5s);
  auto r = Get(Path(5));
  ASSERT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=2");
  EXPECT_EQ(r->header("X-Live-Defects"), "slate");
  EXPECT_EQ(r->header("X-Live-Pipeline"), "a");
}

TEST_F(OriginServiceTest, InitSegmentLivesTheDvrWindow) {
  ASSERT_EQ(Put("a", "w/init.mp4", Fixture("dash_video_init.mp4")).status, 201);
  auto r = Get("w/init.mp4");
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=20");
  EXPECT_EQ(r->header("Content-Type"), "video/mp4");
  EXPECT_EQ(r->body(), Fixture("dash_video_init.mp4"));
}

TEST_F(OriginServiceTest, ManifestLivesManifestMaxAge) {
  const std::string mpd = "<MPD/>";
  ASSERT_EQ(Put("a", "manifest.mpd", mpd).status, 201);
  auto r = Get("manifest.mpd");
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=1");
  EXPECT_EQ(r->header("Content-Type"), "application/dash+xml");
  EXPECT_EQ(r->body(), mpd);
}

// §5.1 through the service: preferred grace.

TEST_F(OriginServiceTest, PreferredGraceServesTheSecondPipelineOnceGraceEnds) {
  PutBothAt(4);  // both healthy
  scheduler_.AdvanceTo(Avail(5));
  ASSERT_EQ(Put("b", Path(5), Seg(5, 1)).status, 201);
  auto r = Get(Path(5));
  EXPECT_FALSE(r->done()) << "a is healthy and preferred: wait for it during the grace";
  scheduler_.AdvanceTo(Avail(5) + 499ms);
  EXPECT_FALSE(r->done());
  scheduler_.AdvanceTo(Avail(5) + 501ms);
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("X-Live-Pipeline"), "b");
  EXPECT_EQ(r->body(), Seg(5, 1));
  EXPECT_NE(r->header("X-Live-Held-Ms"), "<absent>");
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=22");

  // Sticky: a's later arrival does not change the bytes served.
  ASSERT_EQ(Put("a", Path(5), Seg(5)).status, 201);
  auto later = Get(Path(5));
  EXPECT_EQ(later->header("X-Live-Pipeline"), "b");
  scheduler_.Advance(10s);
  EXPECT_EQ(r->calls, 1);
}

TEST_F(OriginServiceTest, PreferredGraceServesThePreferredPipelineArrivingWithinGrace) {
  PutBothAt(4);
  scheduler_.AdvanceTo(Avail(5));
  ASSERT_EQ(Put("b", Path(5), Seg(5, 1)).status, 201);
  auto r = Get(Path(5));
  EXPECT_FALSE(r->done());
  scheduler_.AdvanceTo(Avail(5) + 200ms);
  ASSERT_EQ(Put("a", Path(5), Seg(5)).status, 201);
  ASSERT_TRUE(r->done());
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("X-Live-Pipeline"), "a");
  EXPECT_EQ(r->header("X-Live-Held-Ms"), "200");
  EXPECT_EQ(r->body(), Seg(5));
  scheduler_.Advance(10s);
  EXPECT_EQ(r->calls, 1) << "the grace recheck and the timeout do not answer again";
}

TEST_F(OriginServiceTest, StalledPreferredPipelineIsNotWaitedFor) {
  PutBothAt(4);
  // a stops; by Avail(7) its last segment PUT is 6 s old (> 2·d): stalled.
  scheduler_.AdvanceTo(Avail(5));
  ASSERT_EQ(Put("b", Path(5), Seg(5, 1)).status, 201);
  scheduler_.AdvanceTo(Avail(6));
  ASSERT_EQ(Put("b", Path(6), Seg(6, 1)).status, 201);
  scheduler_.AdvanceTo(Avail(7));
  ASSERT_EQ(Put("b", Path(7), Seg(7, 1)).status, 201);
  auto r = Get(Path(7));
  ASSERT_TRUE(r->done()) << "no grace delay after a failover";
  EXPECT_EQ(r->header("X-Live-Pipeline"), "b");
}

// §4.5: PUT.

TEST_F(OriginServiceTest, PutOutsideTheAcceptedRangeIs409) {
  // At Avail(15): live edge 15, accepted [15 - 10, 15 + 2] = [5, 17].
  clock_.Set(Avail(15));
  const Response low = Put("a", Path(4), Seg(4));
  EXPECT_EQ(low.status, 409);
  EXPECT_NE(low.BodyView().find("\"error\":\"out_of_window\""), std::string::npos)
      << low.BodyView();
  EXPECT_EQ(Put("a", Path(5), Seg(5)).status, 201);
  EXPECT_EQ(Put("a", Path(17), Seg(17)).status, 201);
  EXPECT_EQ(Put("a", Path(18), Seg(18)).status, 409);
  EXPECT_EQ(store_->CandidateCount(), 2u) << "refused PUTs store nothing";

  // One instant earlier the edge is 14: 4 is accepted, 17 is not.
  clock_.Set(Avail(15) - 1ms);
  EXPECT_EQ(Put("b", Path(4), Seg(4)).status, 201);
  EXPECT_EQ(Put("b", Path(17), Seg(17)).status, 409);

  // Before the first segment is available: [start_number, start_number - 1 + ingest_ahead].
  clock_.Set(kAst);
  EXPECT_EQ(Put("a", Path(2), Seg(2)).status, 201);
  EXPECT_EQ(Put("a", Path(3), Seg(3)).status, 409);
  EXPECT_EQ(Put("a", Path(0), Seg(0)).status, 409);
}

TEST_F(OriginServiceTest, FirstPutIs201AndAReplacementIs204) {
  clock_.Set(Avail(5));
  const Response first = Put("a", Path(5), Seg(5));
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(first.Header("X-Live-Pipeline").value_or(""), "a");
  const Response same = Put("a", Path(5), Seg(5));
  EXPECT_EQ(same.status, 204);
  EXPECT_EQ(same.Header("ETag"), first.Header("ETag"));
  const Response other = Put("a", Path(5), Seg(5, 1));
  EXPECT_EQ(other.status, 204);
  EXPECT_NE(other.Header("ETag"), first.Header("ETag"));
  EXPECT_EQ(Put("b", Path(5), Seg(5)).status, 201) << "first from this pipeline";
  EXPECT_EQ(Put("a", "manifest.mpd", "<MPD/>").status, 201);
  EXPECT_EQ(Put("a", "manifest.mpd", "<MPD/>").status, 204);
}

TEST_F(OriginServiceTest, ServedCleanBytesAreNotChangedByAReplacement) {
  clock_.Set(Avail(5));
  ASSERT_EQ(Put("a", Path(5), Seg(5)).status, 201);
  auto first = Get(Path(5));
  ASSERT_EQ(first->status(), 200);
  // The same pipeline retries with different bytes after its candidate was served.
  const Response retry = Put("a", Path(5), Seg(5, 1));
  EXPECT_EQ(retry.status, 409);
  EXPECT_NE(retry.BodyView().find("already_served"), std::string::npos);
  EXPECT_EQ(Put("a", Path(5), Seg(5)).status, 204) << "identical bytes are still a 204";
  auto second = Get(Path(5));
  ASSERT_EQ(second->status(), 200);
  EXPECT_EQ(second->header("ETag"), first->header("ETag"));
  EXPECT_EQ(second->body(), first->body());
}

TEST_F(OriginServiceTest, BodyOverMaxObjectSizeIs413) {
  OriginOptions options;
  options.max_object_size = 1000;
  MakeService(options);
  clock_.Set(Avail(5));
  // Chunked (no Content-Length): refused while appending.
  const Response chunked = Put("a", Path(5), Seg(5));
  EXPECT_EQ(chunked.status, 413);
  EXPECT_NE(chunked.BodyView().find("too_large"), std::string::npos);
  // Declared Content-Length: refused before the body.
  const Response declared = Put("a", Path(5), Seg(5), {}, Seg(5).size());
  EXPECT_EQ(declared.status, 413);
  // Exactly the limit is accepted; one byte more is not.
  EXPECT_EQ(Put("a", "exact.mpd", std::string(1000, 'x')).status, 201);
  EXPECT_EQ(Put("a", "over.mpd", std::string(1001, 'x')).status, 413);
  EXPECT_EQ(store_->CandidateCount(), 1u) << "nothing of a refused body is stored";
  EXPECT_EQ(service_->inflight(), 0u);
  clock_.Set(Avail(5) + 3s);
  EXPECT_EQ(Get(Path(5))->status(), 404) << "the refused segment was never delivered";
}

// §5.2: conditional, range and HEAD requests.

TEST_F(OriginServiceTest, ConditionalRangeAndHeadRequests) {
  PutBothAt(5);
  const std::string seg = Seg(5);
  const std::string size = std::to_string(seg.size());
  auto full = Get(Path(5));
  ASSERT_EQ(full->status(), 200);
  const std::string etag = full->header("ETag");
  ASSERT_EQ(etag.front(), '"');

  auto not_modified = Get(Path(5), {{"If-None-Match", etag}});
  EXPECT_EQ(not_modified->status(), 304);
  EXPECT_EQ(not_modified->header("ETag"), etag);
  EXPECT_EQ(not_modified->header("Cache-Control"), "public, max-age=22");
  EXPECT_TRUE(not_modified->body().empty());
  EXPECT_EQ(Get(Path(5), {{"If-None-Match", "\"x\", W/" + etag}})->status(), 304);
  EXPECT_EQ(Get(Path(5), {{"If-None-Match", "*"}})->status(), 304);
  EXPECT_EQ(Get(Path(5), {{"If-None-Match", "\"other\""}})->status(), 200);

  auto head_range = Get(Path(5), {{"Range", "bytes=0-9"}});
  EXPECT_EQ(head_range->status(), 206);
  EXPECT_EQ(head_range->header("Content-Range"), "bytes 0-9/" + size);
  EXPECT_EQ(head_range->body(), seg.substr(0, 10));
  EXPECT_EQ(head_range->header("Cache-Control"), "public, max-age=22");

  auto suffix = Get(Path(5), {{"Range", "bytes=-5"}});
  EXPECT_EQ(suffix->status(), 206);
  EXPECT_EQ(suffix->header("Content-Range"), "bytes " + std::to_string(seg.size() - 5) + "-" +
                                                 std::to_string(seg.size() - 1) + "/" + size);
  EXPECT_EQ(suffix->body(), seg.substr(seg.size() - 5));

  auto open = Get(Path(5), {{"Range", "bytes=10-"}});
  EXPECT_EQ(open->status(), 206);
  EXPECT_EQ(open->body(), seg.substr(10));

  auto unsatisfiable = Get(Path(5), {{"Range", "bytes=" + size + "-"}});
  EXPECT_EQ(unsatisfiable->status(), 416);
  EXPECT_EQ(unsatisfiable->header("Content-Range"), "bytes */" + size);

  auto multi = Get(Path(5), {{"Range", "bytes=0-1,5-6"}});
  EXPECT_EQ(multi->status(), 200) << "multiple ranges: the whole object";

  auto head = Get(Path(5), {}, "HEAD");
  EXPECT_EQ(head->status(), 200);
  ASSERT_TRUE(head->response->head_length.has_value());
  EXPECT_EQ(*head->response->head_length, seg.size());
  EXPECT_TRUE(head->body().empty());
  EXPECT_FALSE(head->response->body);
  EXPECT_EQ(head->header("ETag"), etag);
  EXPECT_EQ(head->header("Cache-Control"), "public, max-age=22");
}

// §5.2 / §5.4: overload.

TEST_F(OriginServiceTest, TooManyHeldRequestsIs503) {
  OriginOptions options;
  options.max_held_requests = 2;
  MakeService(options);
  clock_.Set(Avail(5));
  auto h1 = Get(Path(5));
  auto h2 = Get(Path(5));
  EXPECT_FALSE(h1->done());
  EXPECT_FALSE(h2->done());
  auto refused = Get(Path(5));
  ASSERT_TRUE(refused->done());
  EXPECT_EQ(refused->status(), 503);
  EXPECT_NE(refused->header("Retry-After"), "<absent>");
  EXPECT_EQ(refused->header("Cache-Control").rfind("public, max-age=", 0), 0u)
      << refused->header("Cache-Control");
  ASSERT_EQ(Put("a", Path(5), Seg(5)).status, 201);
  EXPECT_EQ(h1->status(), 200);
  EXPECT_EQ(h2->status(), 200);
  EXPECT_EQ(refused->calls, 1);
  // Served segments need no hold slot.
  EXPECT_EQ(Get(Path(5))->status(), 200);
}

TEST_F(OriginServiceTest, OverloadShedsSegmentsFarBehindTheLiveEdge) {
  OriginOptions options;
  options.max_inflight_requests = 3;
  options.shed_behind_segments = 3;
  MakeService(options);
  clock_.Set(Avail(15));  // live edge 15
  for (uint64_t n : {11, 12, 15}) ASSERT_EQ(Put("a", Path(n), Seg(n)).status, 201);

  // Two held GETs: with the request itself, 3 in flight, not above the limit.
  std::vector<std::shared_ptr<Reply>> held;
  held.push_back(Get(Path(16)));
  held.push_back(Get(Path(16)));
  EXPECT_EQ(service_->inflight(), 2u);
  EXPECT_EQ(Get(Path(11))->status(), 200);

  held.push_back(Get(Path(16)));
  EXPECT_EQ(service_->inflight(), 3u);
  for (const auto& h : held) ASSERT_FALSE(h->done());

  auto shed = Get(Path(11));  // 4 behind the edge
  ASSERT_TRUE(shed->done());
  EXPECT_EQ(shed->status(), 503);
  EXPECT_EQ(shed->header("Retry-After"), "5");
  EXPECT_EQ(shed->header("Cache-Control"), "public, max-age=5");

  auto near = Get(Path(12));  // 3 behind: not "more than a few"
  EXPECT_EQ(near->status(), 200);
  auto live = Get(Path(15));
  EXPECT_EQ(live->status(), 200) << "live-edge requests keep being served";
  EXPECT_EQ(live->header("Cache-Control"), "public, max-age=22");

  // Load goes away: the old segment is served again.
  scheduler_.AdvanceTo(Avail(16));
  ASSERT_EQ(Put("a", Path(16), Seg(16)).status, 201);
  for (const auto& h : held) EXPECT_EQ(h->status(), 200);
  EXPECT_EQ(service_->inflight(), 0u);
  EXPECT_EQ(Get(Path(11))->status(), 200);
}

TEST_F(OriginServiceTest, DrainingRefusesPutsWith503) {
  clock_.Set(Avail(5));
  service_->SetDraining(true);
  const Response r = Put("a", Path(5), Seg(5));
  EXPECT_EQ(r.status, 503);
  service_->SetDraining(false);
  EXPECT_EQ(Put("a", Path(5), Seg(5)).status, 201);
}

}  // namespace
}  // namespace liveorigin::core
