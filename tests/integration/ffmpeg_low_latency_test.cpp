// A real streaming packager (SPEC §9): ffmpeg's DASH muxer in low-latency
// mode (-ldash 1 -streaming 1, one chunked PUT per segment, one HTTP chunk
// per frame) pushes into a low_latency event while GETs issued as each
// segment starts follow the uploads; the tee muxer writes the same stream to
// local files, and every followed answer must equal ffmpeg's own file.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "streaming_client.h"
#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool HaveFfmpeg() { return std::system("ffmpeg -hide_banner -version >/dev/null 2>&1") == 0; }

std::string SegmentName(int rendition, uint64_t n) {
  char name[64];
  std::snprintf(name, sizeof name, "chunk-stream%d-%05llu.m4s", rendition,
                static_cast<unsigned long long>(n));
  return name;
}

TEST(FfmpegLowLatencyTest, FollowersGetLiveEdgeBytesWhileFfmpegSendsThemAndTheSameBytes) {
  ASSERT_TRUE(HaveFfmpeg()) << "ffmpeg is required (scripts/setup-deps.sh installs it)";
  TestDaemon daemon("ffmpeg-ll");
  // ffmpeg numbers segments from 1 and is not epoch-locked: anchor the event
  // at the moment the stream starts.
  const auto ast = std::chrono::system_clock::now();
  daemon.WriteEvent("ll",
                    "id: ll\n"
                    "availability_start_time: " +
                        Rfc3339(ast) +
                        "\n"
                        "start_number: 1\n"
                        "segment_duration: 1s\n"
                        "dvr_window: 5m\n"
                        "ingest_ahead: 3\n"
                        "hold: {max_wait: 10s}\n"
                        "low_latency: true\n"
                        "media_template: \"chunk-stream$RepresentationID$-$Number%05d$.m4s\"\n"
                        "init_template: \"init-stream$RepresentationID$.m4s\"\n"
                        "pipelines:\n  - {id: p1, token: s3cret}\n");
  ASSERT_TRUE(daemon.Start());
  const fs::path local = daemon.dir() / "local";
  fs::create_directories(local);
  const std::string url =
      "http://p1:s3cret@127.0.0.1:" + std::to_string(daemon.port()) + "/ll/manifest.mpd";
  // write_prft=0: a prft carries the wall clock of the muxer that wrote it,
  // which would make the two outputs differ.
  const std::string dash =
      "f=dash:seg_duration=1:use_template=1:use_timeline=0:ldash=1:streaming=1:"
      "frag_type=every_frame:write_prft=0";
  const std::string cmd =
      "timeout -s KILL 60 ffmpeg -hide_banner -loglevel error -nostdin -re "
      "-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=1000:sample_rate=48000 "
      "-t 5 -map 0:v -map 1:a -c:v libx264 -preset veryfast -tune zerolatency -g 25 "
      "-keyint_min 25 -sc_threshold 0 -b:v 300k -c:a aac -b:a 64k -flags +global_header "
      "-f tee \"[" +
      dash + ":method=PUT:http_persistent=1:http_opts=auth_type=basic]" + url + "|[" + dash + "]" +
      (local / "manifest.mpd").string() + "\" > " + (daemon.dir() / "ffmpeg.log").string() +
      " 2>&1";
  std::atomic<bool> done{false};
  int rc = -1;
  std::thread packager([&] {
    rc = std::system(cmd.c_str());
    done = true;
  });

  // As each segment starts, a player asks for it (both renditions).
  struct Follower {
    std::string name;
    std::unique_ptr<StreamingGet> get;
    bool partial = false;  // bytes arrived while the answer was still open
  };
  std::vector<Follower> followers;
  std::set<std::string> asked;
  while (!done) {
    const auto since = std::chrono::system_clock::now() - ast;
    const uint64_t n = static_cast<uint64_t>(since / 1s) + 1;
    for (int r = 0; r < 2; ++r) {
      const std::string name = SegmentName(r, n);
      if (n < 2 || n > 5 || !asked.insert(name).second) continue;
      followers.push_back({name, std::make_unique<StreamingGet>(daemon.port(), "/ll/" + name)});
    }
    for (auto& f : followers) {
      // The first bytes of an answer still open: they came while ffmpeg
      // was sending the segment.
      if (!f.partial && f.get->WaitForBytes(1, std::chrono::steady_clock::now() + 5ms)) {
        f.partial = !f.get->complete() && f.get->Header("transfer-encoding") == "chunked";
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  packager.join();
  ASSERT_EQ(rc, 0) << cmd << "\n" << ReadFile(daemon.dir() / "ffmpeg.log") << daemon.Log();

  size_t followed = 0, partial = 0;
  for (auto& f : followers) {
    if (!f.get->WaitForEnd()) {
      ADD_FAILURE() << f.name << " ended without its terminating chunk\n" << daemon.Log();
      continue;
    }
    if (f.get->status() != 200) continue;  // e.g. past the end of the stream
    ASSERT_TRUE(fs::exists(local / f.name)) << f.name;
    EXPECT_TRUE(f.get->body() == ReadFile(local / f.name))
        << f.name << " differs from ffmpeg's local copy";
    if (f.get->Header("transfer-encoding") == "chunked") ++followed;
    if (f.partial) ++partial;
  }
  std::cout << followers.size() << " GETs, " << followed << " followed an upload, " << partial
            << " got bytes while it was still arriving" << std::endl;
  // How many of the GETs catch their upload still open depends on how closely
  // ffmpeg keeps to real time on a busy machine (a GET asked for too far
  // ahead of a lagging packager gets 404): at least one must.
  EXPECT_GE(followed, 1u) << "GETs issued as segments start follow their uploads";
  EXPECT_GE(partial, 1u) << "bytes of a live-edge segment reached a GET before its upload ended";
  // Every finished segment is also served whole, byte for byte.
  size_t media = 0;
  for (const auto& entry : fs::directory_iterator(local)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".m4s") continue;
    // The last segments may still be finishing (an upload's end is announced
    // right after its PUT is answered): a streamed answer counts when whole.
    StreamingGet get(daemon.port(), "/ll/" + name);
    ASSERT_TRUE(get.WaitForEnd()) << name;
    ASSERT_EQ(get.status(), 200) << name;
    EXPECT_TRUE(get.body() == ReadFile(entry.path())) << name << " differs from the local copy";
    if (name.rfind("chunk-stream", 0) == 0) ++media;
  }
  EXPECT_GE(media, 8u) << "two streams, about five segments each";
  EXPECT_EQ(daemon.Log().find("refused"), std::string::npos) << daemon.Log();
}

}  // namespace
}  // namespace liveorigin::testing
