// The daemon as packagers and CDNs see it: real binary, port 0, real HTTP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fmp4_fixtures.h"
#include "liveorigin/common/bytes.h"
#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;

const char* kEvent = R"(id: live
segment_duration: 2s
dvr_window: 60s
media_template: "$RepresentationID$/$Number$.m4s"
init_template: "$RepresentationID$/init.mp4"
pipelines:
  - {id: a, token: ta}
  - {id: b, token: tb}
hold: {max_wait: 1s}
preferred_grace: 0ms
)";

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<TestDaemon>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        "limits: {max_object_size: 1MiB}\n");
    daemon_->WriteEvent("live", kEvent);
    ASSERT_TRUE(daemon_->Start());
  }
  const std::vector<std::pair<std::string, std::string>> A{{"Authorization", BasicAuth("a", "ta")}};
  const std::vector<std::pair<std::string, std::string>> B{{"Authorization", BasicAuth("b", "tb")}};
  std::unique_ptr<TestDaemon> daemon_;
};

TEST_F(DaemonTest, PutWithContentLengthThenGetReturnsSameBytes) {
  const std::string body = RandomBytes(200000, 1);
  const auto before = std::chrono::system_clock::now();
  auto put = daemon_->Put("/live/manifest.mpd", body, A);
  const auto after = std::chrono::system_clock::now();
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 201);
  // Into the next second at least, so the time of the GET cannot pass for the
  // time of the PUT.
  std::this_thread::sleep_until(after + 1100ms);
  auto get = daemon_->Get("/live/manifest.mpd");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, body);
  EXPECT_EQ(get->Header("Content-Type"), "application/dash+xml");
  EXPECT_EQ(get->Header("X-Live-Pipeline"), "a");
  EXPECT_EQ(get->Header("Content-Length"), std::to_string(body.size()));
  EXPECT_FALSE(get->Header("ETag").empty());
  // Last-Modified is the ingest time (SPEC §5.2), to the second.
  const auto modified = ParseHttpDate(get->Header("Last-Modified"));
  ASSERT_TRUE(modified) << get->Header("Last-Modified");
  EXPECT_GE(*modified, std::chrono::system_clock::to_time_t(before));
  EXPECT_LE(*modified, std::chrono::system_clock::to_time_t(after));
}

TEST_F(DaemonTest, ChunkedPutLikeFfmpegThenGetReturnsSameBytes) {
  const std::string body = RandomBytes(300001, 2);
  HttpClient c("127.0.0.1", daemon_->port());
  auto put = c.Request("PUT", "/live/sub/en.vtt", A, body, /*chunked=*/true, 1500);
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 201);
  auto again = c.Request("PUT", "/live/sub/en.vtt", A, body, true, 7000);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 204) << "identical retry";
  auto get = c.Request("GET", "/live/sub/en.vtt");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, body);
  EXPECT_EQ(get->Header("Content-Type"), "text/vtt");
}

TEST_F(DaemonTest, HeadAnnouncesLengthWithoutBody) {
  ASSERT_EQ(daemon_->Put("/live/index.m3u8", "#EXTM3U\n", A)->status, 201);
  HttpClient c("127.0.0.1", daemon_->port());
  auto head = c.Request("HEAD", "/live/index.m3u8");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("Content-Length"), "8");
  EXPECT_EQ(head->Header("Content-Type"), "application/vnd.apple.mpegurl");
  // The connection is still in sync: a GET on it returns the body.
  auto get = c.Request("GET", "/live/index.m3u8");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, "#EXTM3U\n");
}

TEST_F(DaemonTest, PreferredPipelineIsServedWhenBothDeliver) {
  const uint64_t n = LiveEdgeNumber(2s);
  const std::string target = "/live/v/" + std::to_string(n) + ".m4s";
  const std::string seg = Fixture("dash_video_1.m4s");
  std::string other = seg;
  other.back() = static_cast<char>(other.back() ^ 1);  // b's own encode: different bytes, clean
  ASSERT_EQ(daemon_->Put(target, other, B)->status, 201);
  ASSERT_EQ(daemon_->Put(target, seg, A)->status, 201);
  auto get = daemon_->Get(target);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->Header("X-Live-Pipeline"), "a");
  EXPECT_EQ(get->body, seg);
}

TEST_F(DaemonTest, AuthFailuresAreRefusedAndStoreNothing) {
  auto none = daemon_->Put("/live/x.mpd", "x", {});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->Header("WWW-Authenticate"), "Basic realm=\"liveorigin\"");
  EXPECT_NE(none->body.find("\"error\""), std::string::npos);
  auto wrong = daemon_->Put("/live/x.mpd", "x", {{"Authorization", BasicAuth("a", "tb")}});
  EXPECT_EQ(wrong->status, 403);
  auto unknown = daemon_->Put("/live/x.mpd", "x", {{"Authorization", BasicAuth("zz", "ta")}});
  EXPECT_EQ(unknown->status, 403);
  auto bearer_wrong = daemon_->Put("/live/x.mpd", "x", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(bearer_wrong->status, 403);
  auto header_only = daemon_->Put("/live/x.mpd", "x", {{"X-Live-Pipeline", "a"}});
  EXPECT_EQ(header_only->status, 401) << "X-Live-Pipeline is not enough when tokens exist";
  EXPECT_EQ(daemon_->Get("/live/x.mpd")->status, 404);
  auto bearer = daemon_->Put("/live/x.mpd", "ok", {{"Authorization", "Bearer tb"}});
  EXPECT_EQ(bearer->status, 201);
  auto get = daemon_->Get("/live/x.mpd");
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->Header("X-Live-Pipeline"), "b");
  EXPECT_NE(daemon_->Log().find("refused 403"), std::string::npos) << "refusals are logged";
}

TEST_F(DaemonTest, BasicCredentialsWithoutTheTokenAreRefused) {
  for (const std::string& credentials : {"a:", "a", ":", ":ta", "a:ta "}) {
    SCOPED_TRACE(credentials);
    auto r =
        daemon_->Put("/live/e.mpd", "x", {{"Authorization", "Basic " + Base64Encode(credentials)}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
  }
  EXPECT_EQ(daemon_->Put("/live/e.mpd", "x", {{"Authorization", "Bearer "}})->status, 401)
      << "an empty Bearer token is no credential";
  EXPECT_EQ(daemon_->Get("/live/e.mpd")->status, 404) << "nothing stored";
}

TEST_F(DaemonTest, RefusalsKeepTheConnectionOpen) {
  // SPEC §4.4: only broken framing closes a keep-alive connection.
  HttpClient c("127.0.0.1", daemon_->port());
  const std::string far = "/live/v/" + std::to_string(LiveEdgeNumber(2s) + 50) + ".m4s";
  const std::string big = RandomBytes((1 << 20) + 1, 4);
  struct Step {
    std::string name, target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool chunked;
    int status;
  };
  const std::vector<Step> steps = {
      {"no credentials", "/live/k.mpd", {}, "abc", false, 401},
      {"no credentials, chunked", "/live/k.mpd", {}, "abc", true, 401},
      {"out of window", far, A, "abc", false, 409},
      {"out of window, chunked", far, A, "abc", true, 409},
      {"wrong token", "/live/k.mpd", {{"Authorization", BasicAuth("a", "tb")}}, "abc", true, 403},
      {"too large", "/live/k.mpd", A, big, true, 413},
      {"unknown event", "/none/k.mpd", A, "abc", false, 404},
      {"accepted", "/live/k.mpd", A, "abc", true, 201},
  };
  for (const auto& s : steps) {
    auto r = c.Request("PUT", s.target, s.headers, s.body, s.chunked);
    ASSERT_TRUE(r) << s.name << ": the connection was closed after the previous refusal";
    EXPECT_EQ(r->status, s.status) << s.name;
    EXPECT_NE(r->Header("Connection"), "close") << s.name;
  }
  auto get = c.Request("GET", "/live/k.mpd");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, "abc");
}

// The write-ahead log files of the daemon's store: every store write appends to them.
uint64_t WalBytes(const std::filesystem::path& data_dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(data_dir)) {
    if (e.path().extension() == ".log") total += e.file_size();
  }
  return total;
}

TEST_F(DaemonTest, IdenticalRetryAnswers204AndRewritesNothing) {
  const uint64_t n = LiveEdgeNumber(2s);
  const std::string path = "v/" + std::to_string(n) + ".m4s";
  const std::string body = RandomBytes(50000, 9);
  ASSERT_EQ(daemon_->Put("/live/" + path, body, A)->status, 201);
  auto view = [&] {
    return nlohmann::json::parse(daemon_->Admin("/admin/events/live/objects/" + path)->body);
  };
  const auto first = view();
  const uint64_t wal = WalBytes(daemon_->data_dir());
  ASSERT_GT(wal, body.size()) << "the write-ahead log holds the candidate";
  std::this_thread::sleep_for(20ms);  // a rewrite would carry a later ingest time

  HttpClient c("127.0.0.1", daemon_->port());
  for (bool chunked : {false, true}) {
    auto retry = c.Request("PUT", "/live/" + path, A, body, chunked);
    ASSERT_TRUE(retry);
    EXPECT_EQ(retry->status, 204);
    EXPECT_EQ(retry->Header("ETag"),
              "\"" + first["candidates"][0]["etag"].get<std::string>() + "\"");
  }
  EXPECT_EQ(WalBytes(daemon_->data_dir()), wal) << "nothing was written to the store";
  const auto again = view();
  EXPECT_EQ(again["candidates"][0]["ingested_at"], first["candidates"][0]["ingested_at"]);
  EXPECT_EQ(again["candidates"].size(), 1u);
  // Different bytes from the same pipeline do replace the candidate.
  ASSERT_EQ(daemon_->Put("/live/" + path, body + "x", A)->status, 204);
  EXPECT_GT(WalBytes(daemon_->data_dir()), wal);
  EXPECT_EQ(daemon_->Get("/live/" + path)->body, body + "x");
}

TEST(TrickleTest, BodyTricklingOverSeveralSegmentDurationsIsAccepted) {
  // SPEC §4.4: the head arrives when a segment starts, the body over the whole
  // segment duration. Here it takes three d (and longer than idle_timeout in
  // total), with gaps far below idle_timeout.
  TestDaemon daemon("trickle", "limits: {idle_timeout: 2s}\n");
  daemon.WriteEvent("t",
                    "id: t\nsegment_duration: 1s\ndvr_window: 60s\ningest_ahead: 2\n"
                    "media_template: \"v/$Number$.m4s\"\npipelines: [{id: a}]\n");
  ASSERT_TRUE(daemon.Start());
  const std::string target = "/t/v/" + std::to_string(LiveEdgeNumber(1s) + 1) + ".m4s";
  const std::string body = RandomBytes(30 * 1000, 5);
  HttpClient c("127.0.0.1", daemon.port());
  ASSERT_TRUE(c.Connect());
  ASSERT_TRUE(
      c.SendRaw("PUT " + target + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < 30; ++i) {
    std::this_thread::sleep_until(start + i * 100ms);
    ASSERT_TRUE(c.SendRaw("3e8\r\n" + body.substr(i * 1000, 1000) + "\r\n")) << "piece " << i;
  }
  ASSERT_TRUE(c.SendRaw("0\r\n\r\n"));
  auto put = c.ReadResponse();
  ASSERT_TRUE(put) << daemon.Log();
  EXPECT_EQ(put->status, 201);
  auto get = c.Request("GET", target);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, body);
}

TEST_F(DaemonTest, OversizeBodyIs413AndTheConnectionStaysUsable) {
  HttpClient c("127.0.0.1", daemon_->port());
  const std::string big = RandomBytes((1 << 20) + 10, 3);
  auto r1 = c.Request("PUT", "/live/big.mpd", A, big);
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 413);
  auto r2 = c.Request("PUT", "/live/big.mpd", A, big, /*chunked=*/true, 65536);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 413);
  auto r3 = c.Request("PUT", "/live/small.mpd", A, "small");
  ASSERT_TRUE(r3) << "the next request on the same connection is answered";
  EXPECT_EQ(r3->status, 201);
  EXPECT_EQ(daemon_->Get("/live/big.mpd")->status, 404) << "nothing half-stored";
}

TEST_F(DaemonTest, PipelinedRequestsAfterARefusalAreAnswered) {
  // A packager writes its next request without reading the previous reply.
  HttpClient c("127.0.0.1", daemon_->port());
  ASSERT_TRUE(c.Connect());
  const std::string refused =
      "PUT /live/p.mpd HTTP/1.1\r\nHost: x\r\nAuthorization: " + BasicAuth("a", "bad") +
      "\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  const std::string accepted =
      "PUT /live/p.mpd HTTP/1.1\r\nHost: x\r\nAuthorization: " + BasicAuth("a", "ta") +
      "\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string del =
      "DELETE /live/p.mpd HTTP/1.1\r\nHost: x\r\nAuthorization: " + BasicAuth("a", "ta") +
      "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  ASSERT_TRUE(c.SendRaw(refused + accepted + del));
  auto r1 = c.ReadResponse();
  auto r2 = c.ReadResponse();
  auto r3 = c.ReadResponse();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(r1->status, 403);
  EXPECT_EQ(r2->status, 201);
  EXPECT_EQ(r3->status, 204);
  EXPECT_EQ(daemon_->Get("/live/p.mpd")->body, "xyz")
      << "DELETE does not remove: retention is ours";
}

TEST_F(DaemonTest, UnknownEventIs404) {
  auto get = daemon_->Get("/nope/a/1.m4s");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 404);
  EXPECT_NE(get->body.find("nope"), std::string::npos);
  EXPECT_EQ(daemon_->Put("/nope/a.mpd", "x", A)->status, 404);
}

TEST_F(DaemonTest, MalformedTargetsAre400AndStoreNothing) {
  for (const std::string& target : std::vector<std::string>{
           "/live/../etc/passwd", "/live/%2e%2e/x.mpd", "/live/a%00b.mpd", "/live//x.mpd",
           "/live/x.mpd/", "/live/bad%zz.mpd", "/live/" + std::string(1100, 'a')}) {
    HttpClient c("127.0.0.1", daemon_->port());
    auto put = c.Request("PUT", target, A, "x");
    ASSERT_TRUE(put) << target;
    EXPECT_EQ(put->status, 400) << target;
    auto get = c.Request("GET", target);
    ASSERT_TRUE(get) << target << ": connection kept after a refusal";
    EXPECT_EQ(get->status, 400) << target;
  }
}

TEST_F(DaemonTest, BrokenFramingIs400AndCloses) {
  HttpClient c("127.0.0.1", daemon_->port());
  ASSERT_TRUE(c.Connect());
  ASSERT_TRUE(
      c.SendRaw("PUT /live/f.mpd HTTP/1.1\r\nHost: x\r\nAuthorization: " + BasicAuth("a", "ta") +
                "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.PeerClosed());
  EXPECT_EQ(daemon_->Get("/live/f.mpd")->status, 404);
}

TEST_F(DaemonTest, AcknowledgedObjectsSurviveKill9) {
  std::vector<std::pair<std::string, std::string>> acked;
  HttpClient c("127.0.0.1", daemon_->port());
  for (int i = 0; i < 50; ++i) {
    const std::string target = "/live/obj" + std::to_string(i) + ".vtt";
    const std::string body = RandomBytes(1000 + i * 997, 100 + i);
    auto r = c.Request("PUT", target, i % 2 ? A : B, body, i % 3 == 0);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201);
    acked.emplace_back(target, body);
  }
  daemon_->Kill();
  ASSERT_TRUE(daemon_->Start());
  for (const auto& [target, body] : acked) {
    auto g = daemon_->Get(target);
    ASSERT_TRUE(g) << target;
    EXPECT_EQ(g->status, 200) << target;
    EXPECT_EQ(g->body, body) << target;
  }
}

TEST_F(DaemonTest, SigtermStopsCleanlyWithExitZero) {
  ASSERT_EQ(daemon_->Put("/live/s.mpd", "x", A)->status, 201);
  EXPECT_EQ(daemon_->Stop(), 0);
  EXPECT_NE(daemon_->Log().find("stopped cleanly"), std::string::npos);
}

TEST_F(DaemonTest, AdminHealthAndReadiness) {
  auto h = daemon_->Admin("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto r = daemon_->Admin("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"ready\":true"), std::string::npos);
  EXPECT_EQ(daemon_->Get("/healthz")->status, 404) << "admin paths are not on the main port";
}

// Bodies of 16 KiB and more go out with sendfile from a memory file
// (sendfile_cache): whole, as a range, as HEAD, followed on the same
// connection by the next answer, and to a reader far slower than the server,
// whose socket fills up again and again during one body.
TEST(SendfileTest, LargeBodiesArriveWholeInRangesAndToSlowReaders) {
  TestDaemon daemon("SendfileTest");
  daemon.WriteEvent("live", kEvent);
  ASSERT_TRUE(daemon.Start());
  const std::vector<std::pair<std::string, std::string>> a{{"Authorization", BasicAuth("a", "ta")}};
  // Larger than a loopback socket's send and receive buffers together.
  const std::string big = RandomBytes(size_t{12} << 20, 7);
  const std::string mid = RandomBytes(100000, 8);
  ASSERT_EQ(daemon.Put("/live/big.mpd", big, a)->status, 201);
  ASSERT_EQ(daemon.Put("/live/mid.mpd", mid, a)->status, 201);

  HttpClient c("127.0.0.1", daemon.port());
  auto whole = c.Request("GET", "/live/mid.mpd");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_TRUE(whole->body == mid) << "whole body differs";
  auto range = c.Request("GET", "/live/mid.mpd", {{"Range", "bytes=1000-70999"}});
  ASSERT_TRUE(range);
  EXPECT_EQ(range->status, 206);
  EXPECT_TRUE(range->body == mid.substr(1000, 70000)) << "range differs";
  auto head = c.Request("HEAD", "/live/mid.mpd");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->Header("Content-Length"), std::to_string(mid.size()));
  // Two GETs in one write: the second answer follows the first's file bytes.
  ASSERT_TRUE(
      c.SendRaw("GET /live/mid.mpd HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /live/mid.mpd HTTP/1.1\r\nRange: bytes=-5\r\nHost: x\r\n\r\n"));
  auto first = c.ReadResponse();
  auto second = c.ReadResponse();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->body == mid);
  EXPECT_EQ(second->status, 206);
  EXPECT_EQ(second->body, mid.substr(mid.size() - 5));

  // A slow reader with a small receive buffer.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  const int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(daemon.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request = "GET /live/big.mpd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string received;
  char buf[65536];
  int reads = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    received.append(buf, static_cast<size_t>(n));
    if (++reads % 64 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::close(fd);
  const size_t body_at = received.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  EXPECT_EQ(received.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_TRUE(received.substr(body_at + 4) == big)
      << "slow reader got " << received.size() - body_at - 4 << " body bytes of " << big.size();

  // The bodies went out from memory files, not from the process's memory.
  auto made = daemon.Metric("liveorigin_sendfile_cache_files_total{result=\"made\"}");
  ASSERT_TRUE(made);
  EXPECT_EQ(*made, 2);
  auto files = daemon.Metric("liveorigin_sendfile_cache_files");
  ASSERT_TRUE(files);
  EXPECT_EQ(*files, 2);
  EXPECT_EQ(daemon.Stop(), 0);
}

}  // namespace
}  // namespace liveorigin::testing
