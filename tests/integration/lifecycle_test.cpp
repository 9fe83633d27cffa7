// The daemon's lifecycle (SPEC §7, §8): SIGTERM drains, retention deletes
// from the store (checked with the store's own API after the daemon stopped),
// disk use stays bounded, the server file's settings reach the process, and
// the command line's exit codes.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>
#include <thread>

#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::unique_ptr<TestDaemon> NewDaemon(const std::string& server_extra = "") {
  return std::make_unique<TestDaemon>(
      ::testing::UnitTest::GetInstance()->current_test_info()->name(), server_extra);
}

// Records stored for `event`, by path.
std::set<std::string> StoredPaths(const std::filesystem::path& data_dir, const std::string& event) {
  std::set<std::string> out;
  for (const auto& r : StoredCandidates(data_dir)) {
    if (r.id.event == event) out.insert(r.id.path);
  }
  return out;
}

TEST(LifecycleTest, SigtermFinishesInFlightRequestsThenExitsZero) {
  auto daemon = NewDaemon();
  // A long hold: the held GET below can only end through the upload.
  daemon->WriteEvent("drain",
                     "id: drain\nsegment_duration: 1s\ndvr_window: 60s\n"
                     "media_template: \"v/$Number$.m4s\"\npipelines: [{id: a}]\n"
                     "hold: {max_wait: 60s}\npreferred_grace: 0ms\ningest_ahead: 3\n");
  ASSERT_TRUE(daemon->Start());
  const uint64_t next = LiveEdgeNumber(1s) + 1;  // due within one d: a GET is held
  const std::string target = "/drain/v/" + std::to_string(next) + ".m4s";

  HttpClient held("127.0.0.1", daemon->port());
  ASSERT_TRUE(held.Connect());
  ASSERT_TRUE(held.SendRaw("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(daemon->WaitForHeld(1));

  // An upload in progress: 100 Continue proves the daemon accepted its head.
  HttpClient upload("127.0.0.1", daemon->port());
  ASSERT_TRUE(upload.Connect());
  ASSERT_TRUE(upload.SendRaw("PUT " + target +
                             " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n"));
  auto cont = upload.ReadResponse(/*head=*/true);
  ASSERT_TRUE(cont);
  ASSERT_EQ(cont->status, 100);
  const std::string body = RandomBytes(30000, 11);
  ASSERT_TRUE(upload.SendRaw("2710\r\n" + body.substr(0, 10000) + "\r\n"));

  daemon->Signal(SIGTERM);
  ASSERT_TRUE(daemon->WaitForLog("draining")) << daemon->LogSinceStart();
  EXPECT_TRUE(WaitUntil([&] {
    return !HttpClient("127.0.0.1", daemon->port()).Request("GET", "/drain/x.mpd");
  })) << "no new requests once draining";

  // The rest of the body arrives after the signal: the upload still completes.
  ASSERT_TRUE(upload.SendRaw("4e20\r\n" + body.substr(10000) + "\r\n0\r\n\r\n"));
  auto put = upload.ReadResponse();
  ASSERT_TRUE(put) << daemon->LogSinceStart();
  EXPECT_EQ(put->status, 201);
  auto got = held.ReadResponse();
  ASSERT_TRUE(got) << "the held GET is answered, not dropped\n" << daemon->LogSinceStart();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, body);
  EXPECT_EQ(daemon->WaitExit(), 0) << daemon->LogSinceStart();
  EXPECT_NE(daemon->LogSinceStart().find("stopped cleanly"), std::string::npos);
}

TEST(LifecycleTest, RetentionDeletesOldSegmentsManifestsAndRetiredEventsFromTheStore) {
  auto daemon = NewDaemon();
  const std::string event =
      "media_template: \"$RepresentationID$/$Number$.m4s\"\n"
      "init_template: \"$RepresentationID$/init.mp4\"\n"
      "segment_duration: 200ms\ndvr_window: 1s\ningest_ahead: 3\n"
      "pipelines: [{id: a}]\nhold: {max_wait: 1s}\n";
  daemon->WriteEvent("keep", "id: keep\n" + event);
  daemon->WriteEvent("gone", "id: gone\n" + event);
  ASSERT_TRUE(daemon->Start());
  const uint64_t first = LiveEdgeNumber(200ms);
  // "gone" first: everything of it is older than the same objects of "keep".
  for (const std::string id : {"gone", "keep"}) {
    for (uint64_t n = first; n < first + 3; ++n) {
      ASSERT_EQ(
          daemon->Put("/" + id + "/v/" + std::to_string(n) + ".m4s", RandomBytes(1000, 1))->status,
          201);
    }
    ASSERT_EQ(daemon->Put("/" + id + "/v/init.mp4", "init")->status, 201);
    ASSERT_EQ(daemon->Put("/" + id + "/m.mpd", "manifest")->status, 201);
  }
  // "gone" is removed from the configuration: retired, it ages out entirely.
  std::filesystem::remove(daemon->dir() / "events" / "gone.yaml");
  ASSERT_EQ(daemon->Admin("/admin/reload", "POST")->status, 200);

  // Segments leave after dvr_window plus one segment, the manifest when nobody
  // rewrote it for as long; retention runs every second.
  const std::string seg = "/keep/v/" + std::to_string(first) + ".m4s";
  EXPECT_TRUE(WaitUntil([&] {
    return daemon->Get(seg)->status == 410 && daemon->Get("/keep/m.mpd")->status == 404;
  }));
  EXPECT_TRUE(daemon->WaitForAdmin("/admin/events/keep", "\"segments\": 0"))
      << daemon->Admin("/admin/events/keep")->body;
  EXPECT_EQ(daemon->Get("/keep/v/init.mp4")->status, 200) << "a live event keeps its init";
  // The retention pass that retired keep's objects retired gone's too (they
  // are older). A clean stop finishes the pass in progress; then the store
  // can be read.
  ASSERT_EQ(daemon->Stop(), 0);

  EXPECT_EQ(StoredPaths(daemon->data_dir(), "keep"), std::set<std::string>{"v/init.mp4"})
      << "old segments and the stale manifest are deleted from the store, not only hidden";
  EXPECT_EQ(StoredPaths(daemon->data_dir(), "gone"), std::set<std::string>{})
      << "a retired event's segments, init and manifest are deleted";
  // And a restart restores exactly that.
  ASSERT_TRUE(daemon->Start());
  EXPECT_TRUE(daemon->WaitForLog("(1 candidates restored")) << daemon->LogSinceStart();
}

TEST(LifecycleTest, DiskUseStaysBoundedByTheDvrWindow) {
  // d = 100 ms, DVR 500 ms: 16 MiB are PUT over about 3 s, then nothing; once
  // the last segment has left the window, the store must give the space back.
  auto daemon = NewDaemon();
  daemon->WriteEvent("disk",
                     "id: disk\nsegment_duration: 100ms\ndvr_window: 500ms\ningest_ahead: 4\n"
                     "media_template: \"$RepresentationID$/$Number$.m4s\"\n"
                     "pipelines: [{id: a}]\nhold: {max_wait: 1s}\n");
  ASSERT_TRUE(daemon->Start());
  constexpr size_t kBody = 128 << 10;
  constexpr uint64_t kTotal = 16ull << 20;
  const std::vector<std::string> renditions{"r0", "r1", "r2", "r3"};
  HttpClient c("127.0.0.1", daemon->port());
  uint64_t written = 0, next = LiveEdgeNumber(100ms);
  std::string last;
  while (written < kTotal) {
    const uint64_t edge = LiveEdgeNumber(100ms);
    if (next < edge) next = edge;  // fell behind the window: skip ahead
    if (next > edge + 4) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    for (const auto& r : renditions) {
      last = "/disk/" + r + "/" + std::to_string(next) + ".m4s";
      auto put = c.Request("PUT", last, {}, RandomBytes(kBody, static_cast<uint32_t>(next)));
      ASSERT_TRUE(put);
      if (put->status == 201) written += kBody;
    }
    ++next;
  }
  EXPECT_TRUE(daemon->WaitForAdmin("/admin/events/disk", "\"segments\": 0"))
      << daemon->Admin("/admin/events/disk")->body;
  EXPECT_EQ(daemon->Get(last)->status, 410);
  // While the process runs, RocksDB's write-ahead log still holds deleted
  // bytes until its memtable (64 MiB) is flushed; a restart flushes it into
  // tables that hold only what is left.
  ASSERT_EQ(daemon->Stop(), 0);
  ASSERT_TRUE(daemon->Start());
  ASSERT_TRUE(daemon->WaitForLog("serving with"));
  const uint64_t used = DirectoryBytes(daemon->data_dir());
  EXPECT_LT(used, 2ull << 20) << "data_dir holds " << used << " bytes after " << written
                              << " bytes were PUT and all of them left the DVR window";
}

TEST(LifecycleTest, ServerSettingsReachTheProcess) {
  {
    auto daemon = NewDaemon("threads: 0\nsync_writes: true\n");
    daemon->WriteEvent("e",
                       "id: e\nsegment_duration: 1s\nmedia_template: \"$Number$.m4s\"\n"
                       "pipelines: [{id: a}]\n");
    ASSERT_TRUE(daemon->Start());
    // threads: 0 = one per core; the store reports the write option it uses.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    EXPECT_TRUE(daemon->WaitForLog("serving with " + std::to_string(cores) + " worker thread(s)"))
        << daemon->LogSinceStart();
    EXPECT_NE(daemon->LogSinceStart().find("sync_writes true"), std::string::npos)
        << daemon->LogSinceStart();
    EXPECT_EQ(daemon->Put("/e/m.mpd", "x")->status, 201);
    EXPECT_EQ(daemon->Get("/e/m.mpd")->body, "x");
  }
  {
    auto daemon = NewDaemon("threads: 3\n");
    daemon->WriteEvent("e",
                       "id: e\nsegment_duration: 1s\nmedia_template: \"$Number$.m4s\"\n"
                       "pipelines: [{id: a}]\n");
    ASSERT_TRUE(daemon->Start());
    EXPECT_TRUE(daemon->WaitForLog("serving with 3 worker thread(s)")) << daemon->LogSinceStart();
    EXPECT_NE(daemon->LogSinceStart().find("sync_writes false"), std::string::npos);
  }
}

// The release daemon runs on jemalloc (README, "Memory"); sanitizer builds on
// the allocator the sanitizer provides. --version asks the allocator itself.
TEST(CommandLineTest, VersionNamesTheAllocatorThatServesMalloc) {
  std::string out;
  EXPECT_EQ(RunLiveorigin({"--version"}, &out), 0) << out;
  EXPECT_EQ(out.rfind("liveorigin ", 0), 0u) << out;
  EXPECT_NE(out.find(LIVEORIGIN_EXPECTED_ALLOCATOR), std::string::npos)
      << "expected the allocator '" << LIVEORIGIN_EXPECTED_ALLOCATOR << "' in: " << out;
}

TEST(CommandLineTest, CheckConfigExitsZeroOrOneAndNamesTheFaultyPosition) {
  TestDaemon dir("check-config");  // only its files: never started
  dir.WriteEvent("ok",
                 "id: ok\nsegment_duration: 2s\nmedia_template: \"$Number$.m4s\"\n"
                 "pipelines: [{id: a}]\n");
  const std::string config = (dir.dir() / "origin.yaml").string();
  std::string out;
  EXPECT_EQ(RunLiveorigin({"--check-config", config}, &out), 0) << out;
  EXPECT_NE(out.find("OK"), std::string::npos) << out;
  EXPECT_EQ(RunLiveorigin({"--config", config, "--check-config"}, &out), 0) << out;

  // An invalid event file: exit 1, the error names file:line:col.
  dir.WriteEvent("bad",
                 "id: bad\nsegment_duration: 2s\nmedia_template: \"$Number$.m4s\"\n"
                 "pipelines: [{id: a}]\nhold: {max_wiat: 1s}\n");
  EXPECT_EQ(RunLiveorigin({"--check-config", config}, &out), 1) << out;
  EXPECT_NE(out.find("bad.yaml:5:8: "), std::string::npos) << out;
  std::filesystem::remove(dir.dir() / "events" / "bad.yaml");

  // An invalid server file, and a missing one.
  const auto broken = dir.dir() / "broken.yaml";
  std::ofstream(broken) << "listen: 127.0.0.1:0\nthreads: -1\n";
  EXPECT_EQ(RunLiveorigin({"--check-config", broken.string()}, &out), 1) << out;
  EXPECT_NE(out.find("broken.yaml:2:10: "), std::string::npos) << out;
  EXPECT_EQ(RunLiveorigin({"--check-config", (dir.dir() / "missing.yaml").string()}, &out), 1);
  EXPECT_NE(out.find("missing.yaml"), std::string::npos) << out;
}

}  // namespace
}  // namespace liveorigin::testing
