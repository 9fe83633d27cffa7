// Low latency (SPEC §9) against the real daemon: a real ffmpeg LL-DASH
// segment (one moof+mdat per frame) is PUT in pieces over a chunked upload
// while GETs follow it.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <regex>

#include "fmp4_fixtures.h"
#include "streaming_client.h"
#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kD = 1s;  // the fixture's duration: its candidates are clean

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string EventYaml(const std::string& id, bool low_latency) {
  return "id: " + id +
         "\n"
         "segment_duration: 1s\n"
         "dvr_window: 120s\n"
         "media_template: \"$RepresentationID$/$Number$.m4s\"\n"
         "init_template: \"$RepresentationID$/init.mp4\"\n"
         "pipelines:\n  - {id: a}\n  - {id: b}\n"
         "hold: {max_wait: 30s}\n"
         "preferred_grace: 500ms\n"
         "ingest_ahead: 5\n" +
         (low_latency ? "low_latency: true\n" : "");
}

class LowLatencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<TestDaemon>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    daemon_->WriteEvent("ll", EventYaml("ll", true));
    daemon_->WriteEvent("plain", EventYaml("plain", false));
    ASSERT_TRUE(daemon_->Start());
    seg_ = Fixture("ldash_video_1.m4s");
    pieces_ = FramePieces(seg_);
    ASSERT_EQ(pieces_.size(), 26u) << "styp, then one moof+mdat per frame";
    // The segment being produced now: PUTs are accepted, GETs are held.
    n_ = LiveEdgeNumber(kD) + 1;
    target_ = "/ll/v/" + std::to_string(n_) + ".m4s";
  }
  uint16_t port() const { return daemon_->port(); }
  // Bytes of the first `n` pieces.
  size_t Prefix(size_t n) const {
    size_t bytes = 0;
    for (size_t i = 0; i < n; ++i) bytes += pieces_[i].size();
    return bytes;
  }
  // b's copy differs from a's in the last sample byte, so a viewer's bytes
  // say which pipeline it got.
  std::string OtherCopy() const {
    std::string b = seg_;
    b.back() = static_cast<char>(b.back() ^ 0x5A);
    return b;
  }

  void TearDown() override {
    if (HasFailure() && daemon_) std::cerr << daemon_->Log() << std::endl;
  }

  std::unique_ptr<TestDaemon> daemon_;
  uint64_t n_ = 0;
  std::string seg_, target_;
  std::vector<std::string> pieces_;
};

TEST_F(LowLatencyTest, BytesReachAGetBeforeThePutEnds) {
  // A player asks before the segment started: held until the first moof.
  StreamingGet early(port(), target_);
  ASSERT_TRUE(early.sent());
  ASSERT_TRUE(daemon_->WaitForHeld(1));

  const int64_t before_put = NowMillis();
  PieceUpload put(port(), target_, "a");
  ASSERT_TRUE(put.started());
  std::unique_ptr<StreamingGet> late;
  for (size_t i = 0; i + 1 < pieces_.size(); ++i) {
    ASSERT_TRUE(put.Send(pieces_[i]));
    if (i == 0) continue;  // styp alone: nothing to follow yet
    // Every piece reaches the follower while the upload is still open.
    ASSERT_TRUE(early.WaitForBytes(Prefix(i + 1))) << "piece " << i;
    EXPECT_EQ(early.body(), seg_.substr(0, Prefix(i + 1)));
    if (i == 12) {
      late = std::make_unique<StreamingGet>(port(), target_);  // joins halfway
      ASSERT_TRUE(late->WaitForBytes(Prefix(i + 1)));
    }
  }
  EXPECT_EQ(early.status(), 200);
  EXPECT_EQ(early.Header("transfer-encoding"), "chunked");
  EXPECT_FALSE(early.HasHeader("content-length"));
  EXPECT_FALSE(early.HasHeader("etag"));
  EXPECT_EQ(early.Header("cache-control"), "public, max-age=1");
  EXPECT_EQ(early.Header("x-live-pipeline"), "a");
  EXPECT_EQ(early.Header("content-type"), "video/iso.segment");
  EXPECT_EQ(early.Header("x-accel-buffering"), "no");
  EXPECT_FALSE(early.Header("x-live-held-ms").empty());
  // CMSD (SPEC §11) with what is known before the upload ends: no br, no ot.
  const std::string cmsd = early.Header("cmsd-static");
  std::smatch at;
  ASSERT_TRUE(
      std::regex_match(cmsd, at, std::regex(R"(at=(\d+),d=1000,n="[^"]+",nor="\d+\.m4s",st=l)")))
      << cmsd;
  EXPECT_GE(std::stoll(at[1]), before_put) << cmsd;
  EXPECT_LE(std::stoll(at[1]), NowMillis()) << cmsd;
  EXPECT_NE(cmsd.find("nor=\"" + std::to_string(n_ + 1) + ".m4s\""), std::string::npos) << cmsd;
  EXPECT_FALSE(early.Header("cmsd-dynamic").empty());
  EXPECT_EQ(late->Header("cmsd-static"), cmsd) << "every follower: the same upload";
  EXPECT_FALSE(early.complete()) << "the answer cannot end before the upload";

  ASSERT_TRUE(put.Send(pieces_.back()));
  EXPECT_EQ(put.Finish(), 201);
  ASSERT_TRUE(early.WaitForEnd()) << "the terminating chunk follows a clean upload";
  EXPECT_EQ(early.body(), seg_);
  ASSERT_TRUE(late->WaitForEnd());
  EXPECT_EQ(late->body(), seg_) << "a late follower gets the whole segment from its start";

  // Once stored, the segment is served whole, as it was followed.
  auto whole = daemon_->Get(target_);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, seg_);
  EXPECT_FALSE(whole->Header("etag").empty());
  EXPECT_EQ(whole->Header("x-live-pipeline"), "a");
  EXPECT_TRUE(whole->Header("x-accel-buffering").empty());

  EXPECT_EQ(daemon_->Metric("liveorigin_following_gets_total"), 2);
  EXPECT_GE(daemon_->Metric("liveorigin_follow_first_byte_seconds_count").value_or(0), 2);
  EXPECT_EQ(daemon_->Metric(R"(liveorigin_live_uploads_total{outcome="complete"})"), 1);
  EXPECT_TRUE(WaitUntil([&] { return daemon_->Metric("liveorigin_following_gets") == 0; }));
  EXPECT_EQ(daemon_->Metric("liveorigin_uploads_in_progress"), 0);
  // Bytes out count the followed answers' bodies as well as the stored one's.
  const double three_bodies = 3.0 * static_cast<double>(seg_.size());
  EXPECT_TRUE(WaitUntil([&] {
    return daemon_->Metric(R"(liveorigin_response_body_bytes_total{event="ll"})") == three_bodies;
  })) << daemon_->Metric(R"(liveorigin_response_body_bytes_total{event="ll"})").value_or(-1)
      << " bytes counted, " << three_bodies << " sent";
}

TEST_F(LowLatencyTest, RacingPipelinesEveryGetFollowsTheSameUpload) {
  const std::string seg_b = OtherCopy();
  const auto pieces_b = FramePieces(seg_b);
  PieceUpload b(port(), target_, "b");
  ASSERT_TRUE(b.Send(pieces_b[0]) && b.Send(pieces_b[1]));
  std::vector<std::unique_ptr<StreamingGet>> gets;
  gets.push_back(std::make_unique<StreamingGet>(port(), target_));
  ASSERT_TRUE(gets.back()->WaitForBytes(Prefix(2)));
  ASSERT_EQ(gets.back()->Header("x-live-pipeline"), "b") << "only b had started";

  PieceUpload a(port(), target_, "a");
  for (size_t i = 2; i + 1 < pieces_.size(); ++i) {
    if (i == 2) ASSERT_TRUE(a.Send(pieces_[0]) && a.Send(pieces_[1]));
    ASSERT_TRUE(a.Send(pieces_[i]));
    ASSERT_TRUE(b.Send(pieces_b[i]));
    if (i % 6 == 0) gets.push_back(std::make_unique<StreamingGet>(port(), target_));
  }
  // The preferred pipeline completes first: the segment keeps following b,
  // so every viewer gets the same bytes.
  ASSERT_TRUE(a.Send(pieces_.back()));
  EXPECT_EQ(a.Finish(), 201);
  gets.push_back(std::make_unique<StreamingGet>(port(), target_));
  ASSERT_TRUE(gets.back()->WaitForBytes(Prefix(pieces_.size() - 1)));
  ASSERT_TRUE(b.Send(pieces_b.back()));
  EXPECT_EQ(b.Finish(), 201);
  for (auto& g : gets) {
    ASSERT_TRUE(g->WaitForEnd());
    EXPECT_EQ(g->Header("x-live-pipeline"), "b");
    EXPECT_TRUE(g->body() == seg_b) << "a follower got bytes other than b's";
  }
  // b completed clean while followed: it is the sticky choice.
  auto whole = daemon_->Get(target_);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->Header("x-live-pipeline"), "b");
  EXPECT_TRUE(whole->body == seg_b);
}

TEST_F(LowLatencyTest, CutOffUploadEndsItsFollowersAndTheNextGetFollowsTheOther) {
  const std::string seg_b = OtherCopy();
  const auto pieces_b = FramePieces(seg_b);
  PieceUpload a(port(), target_, "a");
  PieceUpload b(port(), target_, "b");
  for (size_t i = 0; i < 8; ++i) ASSERT_TRUE(a.Send(pieces_[i]));
  StreamingGet first(port(), target_);
  ASSERT_TRUE(first.WaitForBytes(Prefix(8)));
  ASSERT_EQ(first.Header("x-live-pipeline"), "a");
  for (size_t i = 0; i < 8; ++i) ASSERT_TRUE(b.Send(pieces_b[i]));

  a.Cut();
  EXPECT_FALSE(first.WaitForEnd()) << "no terminating chunk after a cut-off upload";
  EXPECT_TRUE(first.closed()) << "the connection is closed so no cache keeps the truncated answer";
  EXPECT_EQ(first.body(), seg_.substr(0, first.body().size()));
  EXPECT_LT(first.body().size(), seg_.size());

  StreamingGet next(port(), target_);
  ASSERT_TRUE(next.WaitForBytes(Prefix(8)));
  EXPECT_EQ(next.Header("x-live-pipeline"), "b");
  for (size_t i = 8; i < pieces_b.size(); ++i) ASSERT_TRUE(b.Send(pieces_b[i]));
  EXPECT_EQ(b.Finish(), 201);
  ASSERT_TRUE(next.WaitForEnd());
  EXPECT_TRUE(next.body() == seg_b);
  EXPECT_TRUE(WaitUntil(
      [&] { return daemon_->Metric(R"(liveorigin_live_uploads_total{outcome="aborted"})") == 1; }));
}

TEST_F(LowLatencyTest, StalledUploadEndsItsFollowersThenIsStoredWhenItCompletes) {
  PieceUpload a(port(), target_, "a");
  for (size_t i = 0; i < 5; ++i) ASSERT_TRUE(a.Send(pieces_[i]));
  StreamingGet follower(port(), target_);
  ASSERT_TRUE(follower.WaitForBytes(Prefix(5)));
  // No byte for max(d/2, 1 s): the follower is cut off.
  EXPECT_FALSE(follower.WaitForEnd());
  EXPECT_TRUE(follower.closed());
  EXPECT_EQ(daemon_->Metric(R"(liveorigin_live_uploads_total{outcome="stalled"})"), 1);
  // The upload itself goes on and is stored.
  for (size_t i = 5; i < pieces_.size(); ++i) ASSERT_TRUE(a.Send(pieces_[i]));
  EXPECT_EQ(a.Finish(), 201);
  auto whole = daemon_->Get(target_);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, seg_);
}

TEST_F(LowLatencyTest, CorruptUploadEndsItsFollowersWithoutTheLastChunk) {
  // The last mdat announces more bytes than arrive: the complete upload is
  // corrupt, which only its end can show.
  std::string last = pieces_.back();
  last.resize(last.size() - 50);
  PieceUpload a(port(), target_, "a");
  for (size_t i = 0; i + 1 < pieces_.size(); ++i) ASSERT_TRUE(a.Send(pieces_[i]));
  StreamingGet follower(port(), target_);
  ASSERT_TRUE(follower.WaitForBytes(Prefix(pieces_.size() - 1)));
  ASSERT_TRUE(a.Send(last));
  EXPECT_EQ(a.Finish(), 201);  // stored, tagged corrupt
  EXPECT_FALSE(follower.WaitForEnd());
  EXPECT_TRUE(follower.closed());
}

TEST_F(LowLatencyTest, NotAMediaSegmentIsNeverFollowed) {
  PieceUpload a(port(), target_, "a");
  ASSERT_TRUE(a.Send(std::string("\0\0\0\x10mdat", 8) + "12345678"));  // mdat before any moof
  StreamingGet get(port(), target_);
  ASSERT_TRUE(daemon_->WaitForHeld(1)) << "nothing to follow: held for a complete candidate";
  EXPECT_EQ(a.Finish(), 201);
  ASSERT_TRUE(get.WaitForEnd());
  EXPECT_EQ(get.status(), 200);
  EXPECT_EQ(get.Header("x-live-defects"), "corrupt");
  EXPECT_FALSE(get.Header("content-length").empty());
}

TEST_F(LowLatencyTest, Http10GetWaitsForTheCompleteUpload) {
  PieceUpload a(port(), target_, "a");
  for (size_t i = 0; i + 1 < pieces_.size(); ++i) ASSERT_TRUE(a.Send(pieces_[i]));
  HttpClient old("127.0.0.1", port());
  ASSERT_TRUE(old.Connect());
  ASSERT_TRUE(old.SendRaw("GET " + target_ + " HTTP/1.0\r\nHost: origin\r\n\r\n"));
  ASSERT_TRUE(daemon_->WaitForHeld(1)) << "no chunked framing in HTTP/1.0: held, not following";
  ASSERT_TRUE(a.Send(pieces_.back()));
  EXPECT_EQ(a.Finish(), 201);
  auto r = old.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), std::to_string(seg_.size()));
  EXPECT_EQ(r->body, seg_);
}

// Runs `f` with the live edge number, again if the edge moved meanwhile, so
// what `f` saw belongs to one position of the hold window.
template <typename F>
void AtStableLiveEdge(F&& f) {
  for (;;) {
    const uint64_t before = LiveEdgeNumber(kD);
    f(before);
    if (LiveEdgeNumber(kD) == before) return;
  }
}

TEST_F(LowLatencyTest, HoldWindowOpensWhenTheSegmentStarts) {
  // E + 2 starts within one d and completes in more than one. An LL-DASH
  // player asks for a segment at its start (MPD availabilityTimeOffset = d
  // minus one frame), so one whose clock runs a little ahead of the origin's
  // asks for E + 2 now: held on a low-latency event, 404 at once on another.
  int plain_status = 0, ll_far_status = 0;
  AtStableLiveEdge([&](uint64_t edge) {
    auto plain = daemon_->Get("/plain/v/" + std::to_string(edge + 2) + ".m4s");
    auto far = daemon_->Get("/ll/v/" + std::to_string(edge + 3) + ".m4s");
    ASSERT_TRUE(plain && far);
    plain_status = plain->status;
    ll_far_status = far->status;  // starts more than one d from now
  });
  EXPECT_EQ(plain_status, 404);
  EXPECT_EQ(ll_far_status, 404);

  // E + 2 stays inside the window even if the edge moves (it becomes E + 1).
  const std::string target = "/ll/v/" + std::to_string(LiveEdgeNumber(kD) + 2) + ".m4s";
  StreamingGet early(port(), target);
  ASSERT_TRUE(early.sent());
  ASSERT_TRUE(daemon_->WaitForHeld(1)) << "held, not 404";
  PieceUpload put(port(), target, "a");
  ASSERT_TRUE(put.started());
  for (size_t i = 0; i + 1 < pieces_.size(); ++i) ASSERT_TRUE(put.Send(pieces_[i]));
  ASSERT_TRUE(early.WaitForBytes(Prefix(pieces_.size() - 1))) << "the held GET follows the upload";
  EXPECT_FALSE(early.complete());
  ASSERT_TRUE(put.Send(pieces_.back()));
  EXPECT_EQ(put.Finish(), 201);
  ASSERT_TRUE(early.WaitForEnd());
  EXPECT_EQ(early.status(), 200);
  EXPECT_EQ(early.Header("transfer-encoding"), "chunked");
  EXPECT_EQ(early.body(), seg_);
}

TEST_F(LowLatencyTest, EventWithoutLowLatencyHoldsUntilTheUploadIsComplete) {
  const std::string target = "/plain/v/" + std::to_string(LiveEdgeNumber(kD) + 1) + ".m4s";
  PieceUpload a(port(), target, "a");
  for (size_t i = 0; i + 1 < pieces_.size(); ++i) ASSERT_TRUE(a.Send(pieces_[i]));
  StreamingGet get(port(), target);
  ASSERT_TRUE(daemon_->WaitForHeld(1)) << "held, not following";
  EXPECT_EQ(daemon_->Metric("liveorigin_uploads_in_progress"), 0);
  ASSERT_TRUE(a.Send(pieces_.back()));
  EXPECT_EQ(a.Finish(), 201);
  ASSERT_TRUE(get.WaitForEnd());
  EXPECT_EQ(get.status(), 200);
  EXPECT_EQ(get.Header("content-length"), std::to_string(seg_.size()));
  EXPECT_FALSE(get.Header("etag").empty());
  EXPECT_EQ(get.body(), seg_);
  EXPECT_EQ(daemon_->Metric("liveorigin_following_gets_total"), 0);
}

std::string Playlist(uint64_t segments, uint64_t parts) {
  std::string p = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n";
  for (uint64_t i = 0; i < segments; ++i) p += "#EXTINF:1.0,\nseg_" + std::to_string(i) + ".m4s\n";
  for (uint64_t i = 0; i < parts; ++i) {
    p += "#EXT-X-PART:DURATION=0.2,URI=\"seg_" + std::to_string(segments) + "." +
         std::to_string(i) + ".m4s\"\n";
  }
  return p;
}

TEST_F(LowLatencyTest, BlockingPlaylistReloadIsHeldUntilThePlaylistHasTheSegment) {
  const std::vector<std::pair<std::string, std::string>> a{{"X-Live-Pipeline", "a"}};
  ASSERT_EQ(daemon_->Put("/ll/hls/live.m3u8", Playlist(2, 1), a)->status, 201);
  // Already there: answered at once.
  auto have = daemon_->Get("/ll/hls/live.m3u8?_HLS_msn=1");
  ASSERT_TRUE(have);
  EXPECT_EQ(have->status, 200);
  EXPECT_EQ(have->body, Playlist(2, 1));
  auto part = daemon_->Get("/ll/hls/live.m3u8?_HLS_msn=2&_HLS_part=0");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 200);
  // Bad requests.
  EXPECT_EQ(daemon_->Get("/ll/hls/live.m3u8?_HLS_part=1")->status, 400);
  EXPECT_EQ(daemon_->Get("/ll/hls/live.m3u8?_HLS_msn=4")->status, 400)
      << "more than two beyond the last media sequence number (1)";
  // Held until a playlist PUT contains segment 2.
  StreamingGet next(port(), "/ll/hls/live.m3u8?_HLS_msn=2");
  ASSERT_TRUE(daemon_->WaitForHeld(1));
  ASSERT_EQ(daemon_->Put("/ll/hls/live.m3u8", Playlist(2, 3), a)->status, 204);
  ASSERT_TRUE(daemon_->WaitForHeld(1)) << "parts of segment 2 are not segment 2";
  ASSERT_EQ(daemon_->Put("/ll/hls/live.m3u8", Playlist(3, 0), a)->status, 204);
  ASSERT_TRUE(next.WaitForEnd());
  EXPECT_EQ(next.status(), 200);
  EXPECT_EQ(next.body(), Playlist(3, 0));
  EXPECT_FALSE(next.Header("x-live-held-ms").empty());
  // Never reached: 503 after three target durations.
  StreamingGet never(port(), "/ll/hls/live.m3u8?_HLS_msn=4");
  ASSERT_TRUE(never.WaitForEnd());
  EXPECT_EQ(never.status(), 503);
}

TEST_F(LowLatencyTest, PreloadHintObjectIsHeldUntilItIsPut) {
  const std::vector<std::pair<std::string, std::string>> a{{"X-Live-Pipeline", "a"}};
  const std::string playlist =
      Playlist(2, 1) + "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg_2.1.m4s\"\n";
  ASSERT_EQ(daemon_->Put("/ll/hls/live.m3u8", playlist, a)->status, 201);
  EXPECT_EQ(daemon_->Get("/ll/hls/seg_2.2.m4s")->status, 404) << "not announced: 404 at once";
  StreamingGet hinted(port(), "/ll/hls/seg_2.1.m4s");
  ASSERT_TRUE(daemon_->WaitForHeld(1));
  const std::string part = RandomBytes(3000, 5);
  ASSERT_EQ(daemon_->Put("/ll/hls/seg_2.1.m4s", part, a)->status, 201);
  ASSERT_TRUE(hinted.WaitForEnd());
  EXPECT_EQ(hinted.status(), 200);
  EXPECT_EQ(hinted.body(), part);
  EXPECT_FALSE(hinted.Header("x-live-held-ms").empty());
}

TEST_F(LowLatencyTest, PreloadHintPartIsStreamedWhileItArrives) {
  const std::vector<std::pair<std::string, std::string>> a{{"X-Live-Pipeline", "a"}};
  const std::string playlist =
      Playlist(2, 0) + "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part_2.0.m4s\"\n";
  ASSERT_EQ(daemon_->Put("/ll/hls/live.m3u8", playlist, a)->status, 201);
  StreamingGet hinted(port(), "/ll/hls/part_2.0.m4s");  // the player asks before it exists
  ASSERT_TRUE(daemon_->WaitForHeld(1));
  PieceUpload put(port(), "/ll/hls/part_2.0.m4s", "a");
  for (size_t i = 0; i < 6; ++i) ASSERT_TRUE(put.Send(pieces_[i]));
  ASSERT_TRUE(hinted.WaitForBytes(Prefix(6))) << "bytes of the part before its upload ends";
  EXPECT_EQ(hinted.status(), 200);
  EXPECT_EQ(hinted.Header("transfer-encoding"), "chunked");
  EXPECT_FALSE(hinted.complete());
  for (size_t i = 6; i < pieces_.size(); ++i) ASSERT_TRUE(put.Send(pieces_[i]));
  EXPECT_EQ(put.Finish(), 201);
  ASSERT_TRUE(hinted.WaitForEnd());
  EXPECT_EQ(hinted.body(), seg_);
}

// SIGTERM with an upload in progress and a GET following it, past the drain
// deadline: the process exits 0 (under the asan preset a use-after-free in
// the teardown of the follower or the upload makes it non-zero).
TEST(LowLatencyShutdownTest, SigtermWithAFollowedUploadInFlightExitsZero) {
  TestDaemon daemon("LowLatencyShutdown", "limits: {drain_timeout: 300ms, idle_timeout: 60s}\n");
  daemon.WriteEvent("ll", EventYaml("ll", true));
  ASSERT_TRUE(daemon.Start());
  const std::string seg = Fixture("ldash_video_1.m4s");
  const auto pieces = FramePieces(seg);
  const std::string target = "/ll/v/" + std::to_string(LiveEdgeNumber(kD) + 1) + ".m4s";
  PieceUpload put(daemon.port(), target, "a");
  ASSERT_TRUE(put.Send(pieces[0]) && put.Send(pieces[1]));
  StreamingGet follower(daemon.port(), target);
  ASSERT_TRUE(follower.WaitForBytes(pieces[0].size() + pieces[1].size()));
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_FALSE(follower.WaitForEnd()) << "the unfinished answer is not ended as if complete";
  const std::string log = daemon.Log();
  EXPECT_NE(log.find("stopped cleanly"), std::string::npos) << log;
}

}  // namespace
}  // namespace liveorigin::testing
