// SIGTERM while work is in flight (SPEC §7): an upload still streaming and a
// GET held at the live edge outlive the drain deadline. The process must exit
// 0 with nothing dangling — under the asan preset a use-after-free here makes
// the exit status non-zero.
#include <gtest/gtest.h>

#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;

TEST(ShutdownTest, SigtermWithAnUploadAndAHeldGetInFlightExitsZero) {
  TestDaemon daemon("ShutdownInFlight", "limits: {drain_timeout: 300ms, idle_timeout: 60s}\n");
  daemon.WriteEvent("live",
                    "id: live\n"
                    "segment_duration: 2s\n"
                    "media_template: \"$RepresentationID$/$Number$.m4s\"\n"
                    "pipelines: [{id: a}]\n"
                    "hold: {max_wait: 60s}\n");
  ASSERT_TRUE(daemon.Start());
  const uint64_t edge = LiveEdgeNumber(2000ms);

  // An upload that has started and never ends.
  HttpClient upload("127.0.0.1", daemon.port());
  ASSERT_TRUE(upload.Connect());
  ASSERT_TRUE(upload.SendRaw("PUT /live/v/" + std::to_string(edge) +
                             ".m4s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "4\r\nabcd\r\n"));
  // A GET held for the next segment, which nobody sends.
  HttpClient held("127.0.0.1", daemon.port());
  ASSERT_TRUE(held.Connect());
  ASSERT_TRUE(
      held.SendRaw("GET /live/v/" + std::to_string(edge + 1) + ".m4s HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(daemon.WaitForHeld(1));
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  const std::string log = daemon.Log();
  EXPECT_NE(log.find("drain deadline reached"), std::string::npos) << log;
  EXPECT_NE(log.find("aborted after 4 bytes"), std::string::npos)
      << "the unfinished upload is dropped, not stored\n"
      << log;
  EXPECT_NE(log.find("stopped cleanly"), std::string::npos) << log;
}

}  // namespace
}  // namespace liveorigin::testing
