// A real packager: ffmpeg's DASH muxer PUTs a live test stream into the
// daemon while the tee muxer writes the same stream to local files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool HaveFfmpeg() { return std::system("ffmpeg -hide_banner -version >/dev/null 2>&1") == 0; }

TEST(FfmpegPushTest, DashPushOverHttpPutIsServedByteForByte) {
  ASSERT_TRUE(HaveFfmpeg()) << "ffmpeg is required (scripts/setup-deps.sh installs it)";
  TestDaemon daemon("ffmpeg");
  // ffmpeg numbers segments from 1 and is not epoch-locked: anchor the event
  // at the moment the stream starts.
  const auto ast = std::chrono::system_clock::now();
  daemon.WriteEvent("ff",
                    "id: ff\n"
                    "availability_start_time: " +
                        Rfc3339(ast) +
                        "\n"
                        "start_number: 1\n"
                        "segment_duration: 1s\n"
                        "dvr_window: 5m\n"
                        "ingest_ahead: 3\n"
                        "media_template: \"chunk-stream$RepresentationID$-$Number%05d$.m4s\"\n"
                        "init_template: \"init-stream$RepresentationID$.m4s\"\n"
                        "pipelines:\n  - {id: p1, token: s3cret}\n");
  ASSERT_TRUE(daemon.Start());
  const fs::path local = daemon.dir() / "local";
  fs::create_directories(local);
  const std::string url =
      "http://p1:s3cret@127.0.0.1:" + std::to_string(daemon.port()) + "/ff/manifest.mpd";
  const std::string dash = "f=dash:seg_duration=1:use_timeline=0";
  const std::string cmd =
      "timeout -s KILL 60 ffmpeg -hide_banner -loglevel error -nostdin -re "
      "-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=1000:sample_rate=48000 "
      "-t 4 -map 0:v -map 1:a -c:v libx264 -preset veryfast -g 25 -keyint_min 25 "
      "-sc_threshold 0 -b:v 300k -c:a aac -b:a 64k -flags +global_header "
      "-f tee \"[" +
      dash + ":method=PUT:http_persistent=1:http_opts=auth_type=basic]" + url + "|[" + dash + "]" +
      (local / "manifest.mpd").string() + "\" > " + (daemon.dir() / "ffmpeg.log").string() +
      " 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_EQ(rc, 0) << cmd << "\n" << ReadFile(daemon.dir() / "ffmpeg.log") << daemon.Log();

  size_t compared = 0, media = 0;
  for (const auto& entry : fs::directory_iterator(local)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".m4s") continue;
    auto get = daemon.Get("/ff/" + name);
    ASSERT_TRUE(get) << name;
    ASSERT_EQ(get->status, 200) << name << "\n" << daemon.Log();
    EXPECT_EQ(get->body, ReadFile(entry.path())) << name << " differs from the local copy";
    EXPECT_EQ(get->Header("X-Live-Pipeline"), "p1");
    ++compared;
    if (name.rfind("chunk-stream", 0) == 0) ++media;
  }
  EXPECT_GE(media, 6u) << "two streams, about four segments each";
  EXPECT_GE(compared, media + 2) << "both init segments";
  auto mpd = daemon.Get("/ff/manifest.mpd");
  ASSERT_TRUE(mpd);
  EXPECT_EQ(mpd->status, 200);
  EXPECT_EQ(mpd->Header("Content-Type"), "application/dash+xml");
  EXPECT_NE(mpd->body.find("<MPD"), std::string::npos);
  EXPECT_EQ(daemon.Log().find("refused"), std::string::npos) << daemon.Log();
}

}  // namespace
}  // namespace liveorigin::testing
