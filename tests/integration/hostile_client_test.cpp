// Clients that break the rules: smuggling shapes, oversized heads, slow or
// stalled senders, connection floods. Nothing is stored, the daemon keeps
// serving everyone else, and connections close only when framing is broken.
#include <gtest/gtest.h>

#include <thread>

#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;

const char* kEvent = R"(id: h
segment_duration: 2s
dvr_window: 60s
media_template: "$RepresentationID$/$Number$.m4s"
pipelines: [{id: a, token: ta}]
)";

class HostileClientTest : public ::testing::Test {
 protected:
  void Start(const std::string& server_extra = "") {
    daemon_ = std::make_unique<TestDaemon>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), server_extra);
    daemon_->WriteEvent("h", kEvent);
    ASSERT_TRUE(daemon_->Start());
    auth_ = "Authorization: " + BasicAuth("a", "ta") + "\r\n";
  }
  // Sends raw bytes on a fresh connection; returns the response and whether the
  // server closed the connection afterwards.
  std::pair<std::optional<HttpResponse>, bool> Raw(const std::string& bytes) {
    HttpClient c("127.0.0.1", daemon_->port());
    EXPECT_TRUE(c.Connect());
    EXPECT_TRUE(c.SendRaw(bytes));
    auto r = c.ReadResponse();
    return {r, c.PeerClosed()};
  }
  void ExpectNothingStored(const std::string& path) {
    EXPECT_EQ(daemon_->Get("/h/" + path)->status, 404) << path << " must not be stored";
  }
  std::unique_ptr<TestDaemon> daemon_;
  std::string auth_;
};

TEST_F(HostileClientTest, SmugglingShapesAreRefusedAndClose) {
  Start();
  const std::string put = "PUT /h/s.mpd HTTP/1.1\r\nHost: x\r\n" + auth_;
  const std::pair<std::string, std::string> cases[] = {
      {"CL and TE", put + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"two different CL", put + "Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"},
      {"bad chunk size", put + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
      {"negative CL", put + "Content-Length: -1\r\n\r\n"},
      {"TE not chunked", put + "Transfer-Encoding: gzip\r\n\r\nabc"},
      {"NUL in header", put + "X-A: a" + std::string(1, '\0') + "b\r\nContent-Length: 1\r\n\r\nx"},
  };
  for (const auto& [name, bytes] : cases) {
    auto [r, closed] = Raw(bytes);
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(r->status, 400) << name;
    EXPECT_TRUE(closed) << name << ": framing is broken, the connection must close";
  }
  ExpectNothingStored("s.mpd");
}

TEST_F(HostileClientTest, ObsFoldIsUnfoldedIntoOneHeaderNeverSplit) {
  // RFC 9112 5.2 lets a server replace obs-fold with a space instead of refusing
  // it; liveorigin unfolds. What matters is that the continuation never becomes
  // a header or request of its own.
  Start();
  HttpClient c("127.0.0.1", daemon_->port());
  ASSERT_TRUE(c.Connect());
  ASSERT_TRUE(c.SendRaw("PUT /h/f.mpd HTTP/1.1\r\nHost: x\r\n" + auth_ +
                        "X-Live-Defects: slate,\r\n corrupt\r\nContent-Length: 1\r\n\r\nx"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->Header("X-Live-Defects"), "slate, corrupt");
  EXPECT_EQ(c.Request("GET", "/h/f.mpd")->status, 200) << "connection still in sync";
}

TEST_F(HostileClientTest, OversizedHeadIs431AndTargetsOver1KiBAre400) {
  Start("limits: {max_header_size: 4KiB}\n");
  auto [big, closed] =
      Raw("GET /h/x.mpd HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 431);
  EXPECT_TRUE(closed);
  std::string many = "GET /h/x.mpd HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 500; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  auto [too_many, closed2] = Raw(many + "\r\n");
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->status, 431);
  HttpClient c("127.0.0.1", daemon_->port());
  auto long_target = c.Request("GET", "/h/" + std::string(1500, 'a') + ".mpd");
  ASSERT_TRUE(long_target);
  EXPECT_EQ(long_target->status, 400);
  EXPECT_EQ(c.Request("GET", "/h/ok.mpd")->status, 404) << "still the same connection";
}

TEST_F(HostileClientTest, StalledUploadIsCutOffAndNeverVisible) {
  Start("limits: {idle_timeout: 1s}\n");
  HttpClient c("127.0.0.1", daemon_->port());
  ASSERT_TRUE(c.Connect());
  ASSERT_TRUE(c.SendRaw("PUT /h/stall.mpd HTTP/1.1\r\nHost: x\r\n" + auth_ +
                        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  // The body stops here; the server must drop the connection after idle_timeout.
  EXPECT_TRUE(c.PeerClosed(kPatience));
  ExpectNothingStored("stall.mpd");
  // The socket is closed by the timer before the session logs the abort: poll.
  EXPECT_TRUE(daemon_->WaitForLog("aborted after 5 bytes")) << daemon_->Log();
  auto m = daemon_->Admin("/metrics");
  EXPECT_NE(m->body.find(R"(liveorigin_put_refused_total{event="h",reason="aborted"} 1)"),
            std::string::npos);
}

TEST_F(HostileClientTest, SlowlorisConnectionsDoNotStarveRealClientsAndAreReclaimed) {
  // 2000 sockets on each side: more than Debian's default soft limit of 1024
  // open files. The daemon inherits the raised limit.
  constexpr int kSlow = 2000;
  ASSERT_GE(RaiseFileLimit(kSlow + 200), uint64_t{kSlow + 200})
      << "the hard RLIMIT_NOFILE is too low for this test (raise it: ulimit -Hn)";
  Start("limits: {idle_timeout: 2s}\n");
  std::vector<std::unique_ptr<HttpClient>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<HttpClient>("127.0.0.1", daemon_->port()));
    ASSERT_TRUE(slow.back()->Connect()) << i;
    ASSERT_TRUE(slow.back()->SendRaw("GET /h/x.mpd HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  }
  // A normal client keeps working while they trickle (each round sends a byte
  // on 50 of them; no connection gets a byte from every round).
  HttpClient normal("127.0.0.1", daemon_->port());
  for (int rounds = 0; rounds < 10; ++rounds) {
    for (int i = 0; i < 50; ++i) slow[(rounds * 50 + i) % kSlow]->SendRaw("a");
    auto put = normal.Request("PUT", "/h/n" + std::to_string(rounds) + ".mpd",
                              {{"Authorization", BasicAuth("a", "ta")}}, "body");
    ASSERT_TRUE(put);
    EXPECT_EQ(put->status, 201);
    auto get = normal.Request("GET", "/h/n" + std::to_string(rounds) + ".mpd");
    ASSERT_TRUE(get);
    EXPECT_EQ(get->body, "body");
    std::this_thread::sleep_for(100ms);
  }
  // idle_timeout bounds a request head: every trickling connection is reclaimed.
  EXPECT_TRUE(daemon_->WaitForAdmin("/metrics", "\nliveorigin_open_connections 1\n"))
      << "only the normal client is left";
  int closed = 0;
  for (auto& s : slow) closed += s->PeerClosed() ? 1 : 0;
  EXPECT_EQ(closed, kSlow);
}

TEST_F(HostileClientTest, MaxConnectionsRefusesTheExcessOnly) {
  Start("limits: {max_connections: 20}\n");
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < 20; ++i) {
    held.push_back(std::make_unique<HttpClient>("127.0.0.1", daemon_->port()));
    ASSERT_TRUE(held.back()->Connect());
  }
  ASSERT_TRUE(daemon_->WaitForAdmin("/metrics", "\nliveorigin_open_connections 20\n"));
  HttpClient extra("127.0.0.1", daemon_->port());
  auto refused = extra.Request("GET", "/h/x.mpd");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_TRUE(extra.PeerClosed());
  // Established clients are unaffected.
  auto ok = held[0]->Request("GET", "/h/x.mpd");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 404);
}

}  // namespace
}  // namespace liveorigin::testing
