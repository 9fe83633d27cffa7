// SPEC §11 against the real daemon on port 0: DASH-IF ingest (POST, the
// empty probe, gzip bodies, Expect: 100-continue), CMSD, browsers (CORS,
// /.well-known/time) and RFC 9530 digests.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "fmp4_fixtures.h"
#include "liveorigin/common/bytes.h"
#include "test_daemon.h"

namespace liveorigin::testing {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;
using nlohmann::json;

const char* kEvent = R"(id: ix
segment_duration: 1s
dvr_window: 60s
media_template: "$RepresentationID$/$Number$.m4s"
init_template: "$RepresentationID$/init.mp4"
pipelines:
  - {id: a, token: ta}
  - {id: b, token: tb}
hold: {max_wait: 5s}
preferred_grace: 0ms
ingest_ahead: 3
)";

std::string Segment(uint64_t n) {
  static const std::string base = Fixture("dash_video_1.m4s");
  return ShiftTfdt(base, static_cast<int64_t>(n) * 12800);
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Sha256Field(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return "sha-256=:" + Base64Encode(std::string(reinterpret_cast<char*>(md), len)) + ":";
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The value of `key` in a CMSD-Static dictionary ("" when absent).
std::string Key(const std::string& dict, const std::string& key) {
  std::smatch m;
  const std::regex re("(?:^|,)" + key + "=(\"[^\"]*\"|[^,]*)");
  return std::regex_search(dict, m, re) ? m[1].str() : "";
}

class InteropTest : public ::testing::Test {
 protected:
  void StartDaemon(const std::string& server_extra = "node_name: test-node\n",
                   const std::string& limits = "limits: {max_object_size: 1MiB}\n") {
    daemon_ = std::make_unique<TestDaemon>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), limits + server_extra);
    daemon_->WriteEvent("ix", kEvent);
    ASSERT_TRUE(daemon_->Start());
    n_ = LiveEdgeNumber(1s);
  }
  void SetUp() override { StartDaemon(); }

  Headers A(Headers extra = {}) {
    extra.emplace_back("Authorization", BasicAuth("a", "ta"));
    return extra;
  }
  std::string Url(uint64_t n) { return "/ix/v/" + std::to_string(n) + ".m4s"; }
  json Candidates(const std::string& path) {
    auto view = daemon_->Admin("/admin/events/ix/objects/" + path);
    EXPECT_EQ(view->status, 200);
    return json::parse(view->body)["candidates"];
  }
  // Sends a request head with Expect: 100-continue on `c` and returns the
  // first answer (100 when the origin wants the body).
  std::optional<HttpResponse> Head100(HttpClient& c, const std::string& method,
                                      const std::string& target, const Headers& headers,
                                      size_t length) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "Content-Length: " + std::to_string(length) + "\r\n\r\n";
    if ((!c.connected() && !c.Connect()) || !c.SendRaw(req)) return std::nullopt;
    return c.ReadResponse();
  }

  std::unique_ptr<TestDaemon> daemon_;
  uint64_t n_ = 0;
};

TEST_F(InteropTest, PostIsPutAlsoThroughExpectContinue) {
  const std::string seg = Segment(n_);
  HttpClient c("127.0.0.1", daemon_->port());
  auto cont = Head100(c, "POST", Url(n_), A(), seg.size());
  ASSERT_TRUE(cont);
  ASSERT_EQ(cont->status, 100);
  ASSERT_TRUE(c.SendRaw(seg));
  auto created = c.ReadResponse();
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  auto retry = c.Request("POST", Url(n_), A(), seg, /*chunked=*/true, 999);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->status, 204) << "identical retry, on the same connection";
  auto get = daemon_->Get(Url(n_));
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, seg);
  EXPECT_EQ(get->Header("X-Live-Pipeline"), "a");
}

TEST_F(InteropTest, EveryRefusalIsDecidedBeforeContinue) {
  struct Case {
    const char* name;
    Headers headers;
    std::string target;
    size_t length;
    int status;
  } cases[] = {
      {"no credentials", {}, Url(n_), 100, 401},
      {"wrong credentials", {{"Authorization", BasicAuth("a", "nope")}}, Url(n_), 100, 403},
      {"unknown coding", A({{"Content-Encoding", "br"}}), Url(n_), 100, 415},
      {"malformed digest", A({{"Content-Digest", "sha-256=:AAAA:"}}), Url(n_), 100, 400},
      {"too large", A(), Url(n_), (2u << 20), 413},
      {"out of window", A(), Url(n_ + 50), 100, 409},
  };
  for (const auto& c : cases) {
    HttpClient client("127.0.0.1", daemon_->port());
    auto first = Head100(client, "POST", c.target, c.headers, c.length);
    ASSERT_TRUE(first) << c.name;
    EXPECT_EQ(first->status, c.status) << c.name << ": the refusal comes instead of 100";
    EXPECT_FALSE(json::parse(first->body)["error"].get<std::string>().empty()) << c.name;
  }
  EXPECT_TRUE(Candidates("v/" + std::to_string(n_) + ".m4s").empty());
}

TEST_F(InteropTest, EmptyProbeAnswers200AndStoresNothing) {
  HttpClient c("127.0.0.1", daemon_->port());
  auto put = c.Request("PUT", "/ix/manifest.mpd", A(), "");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200);
  auto post = c.Request("POST", "/ix/manifest.mpd", A(), "", /*chunked=*/true);
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 200);
  HttpClient e("127.0.0.1", daemon_->port());
  auto probe = Head100(e, "POST", Url(n_), A(), 0);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->status, 200);
  EXPECT_EQ(daemon_->Get("/ix/manifest.mpd")->status, 404);
  EXPECT_TRUE(Candidates("manifest.mpd").empty());
  EXPECT_TRUE(Candidates("v/" + std::to_string(n_) + ".m4s").empty());
  // A probe is still refused without credentials.
  EXPECT_EQ(daemon_->Put("/ix/manifest.mpd", "")->status, 401);
}

TEST_F(InteropTest, GzipBodiesAreDecodedAndBadOnesStoreNothing) {
  const std::string seg = Segment(n_);
  HttpClient c("127.0.0.1", daemon_->port());
  auto put = c.Request("PUT", Url(n_), A({{"Content-Encoding", "gzip"}}), Gzip(seg), true, 500);
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 201);
  EXPECT_EQ(put->Header("X-Live-Defects"), "") << "inspected after decoding";
  auto get = daemon_->Get(Url(n_));
  EXPECT_EQ(get->body, seg);
  EXPECT_EQ(get->Header("Content-Encoding"), "");

  const std::string gz = Gzip(Segment(n_ + 1));
  const std::string bomb = Gzip(std::string(8u << 20, 'x'));  // 8 MiB decoded, 1 MiB allowed
  struct Case {
    const char* name;
    std::string body;
    int status;
    const char* code;
  } cases[] = {
      {"bomb", bomb, 413, "too_large"},
      {"truncated", gz.substr(0, gz.size() - 5), 400, "bad_encoding"},
      {"corrupt", Segment(n_ + 1), 400, "bad_encoding"},
      {"garbage after the member", gz + "tail", 400, "bad_encoding"},
  };
  for (const auto& k : cases) {
    auto r = c.Request("PUT", Url(n_ + 1), A({{"Content-Encoding", "gzip"}}), k.body);
    ASSERT_TRUE(r) << k.name;
    EXPECT_EQ(r->status, k.status) << k.name;
    EXPECT_EQ(json::parse(r->body)["error"], k.code) << k.name;
  }
  EXPECT_TRUE(Candidates("v/" + std::to_string(n_ + 1) + ".m4s").empty());
  // The connection survived every refusal.
  auto ok = c.Request("PUT", Url(n_ + 1), A({{"Content-Encoding", "gzip"}}), gz);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201);
}

TEST_F(InteropTest, ContentDigestIsVerifiedAndReprDigestServedOnRequest) {
  const std::string seg = Segment(n_);
  auto wrong = daemon_->Put(Url(n_), seg, A({{"Content-Digest", Sha256Field(seg + "!")}}));
  EXPECT_EQ(wrong->status, 400);
  EXPECT_EQ(json::parse(wrong->body)["error"], "digest_mismatch");
  auto malformed = daemon_->Put(Url(n_), seg, A({{"Content-Digest", "sha-256=abc"}}));
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(json::parse(malformed->body)["error"], "bad_digest");
  EXPECT_TRUE(Candidates("v/" + std::to_string(n_) + ".m4s").empty());
  auto unknown = daemon_->Put(Url(n_), seg, A({{"Content-Digest", "md5=:AAAA:, x-new=1"}}));
  EXPECT_EQ(unknown->status, 201) << "algorithms not understood are ignored";
  const std::string seg2 = Segment(n_ + 1);
  const std::string gz = Gzip(seg2);
  auto coded = daemon_->Put(Url(n_ + 1), gz,
                            A({{"Content-Encoding", "gzip"}, {"Content-Digest", Sha256Field(gz)}}));
  EXPECT_EQ(coded->status, 201) << "the digest covers the content as sent";

  EXPECT_EQ(daemon_->Get(Url(n_))->Header("Repr-Digest"), "") << "nobody asked";
  EXPECT_EQ(daemon_->Get(Url(n_), {{"Want-Repr-Digest", "sha-256=0"}})->Header("Repr-Digest"), "");
  for (int i = 0; i < 2; ++i) {
    auto got = daemon_->Get(Url(n_), {{"Want-Repr-Digest", "sha-256=1"}});
    EXPECT_EQ(got->Header("Repr-Digest"), Sha256Field(seg));
  }
  auto part =
      daemon_->Get(Url(n_ + 1), {{"Want-Repr-Digest", "sha-256=2"}, {"Range", "bytes=0-99"}});
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->Header("Repr-Digest"), Sha256Field(seg2)) << "of the decoded representation";
}

TEST_F(InteropTest, CmsdOnSegmentsAndInitSegments) {
  const std::string init = Fixture("dash_video_init.mp4");
  ASSERT_EQ(daemon_->Put("/ix/v/init.mp4", init, A())->status, 201);
  const std::string seg = Segment(n_);
  const int64_t before = NowMs();
  ASSERT_EQ(daemon_->Put(Url(n_), seg, A())->status, 201);
  const int64_t after = NowMs();

  for (const char* method : {"GET", "HEAD"}) {
    HttpClient c("127.0.0.1", daemon_->port());
    auto r = c.Request(method, Url(n_));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    const std::string s = r->Header("CMSD-Static");
    const int64_t at = std::stoll(Key(s, "at"));
    EXPECT_GE(at, before) << s;
    EXPECT_LE(at, after) << s;
    EXPECT_EQ(Key(s, "d"), "1000") << s;
    EXPECT_EQ(Key(s, "br"), std::to_string(std::llround(seg.size() * 8.0 / 1000))) << s;
    EXPECT_EQ(Key(s, "ot"), "v") << s;
    EXPECT_EQ(Key(s, "st"), "l") << s;
    EXPECT_EQ(Key(s, "n"), "\"test-node\"") << s;
    EXPECT_EQ(Key(s, "nor"), "\"" + std::to_string(n_ + 1) + ".m4s\"") << s;
    EXPECT_TRUE(std::regex_match(r->Header("CMSD-Dynamic"), std::regex(R"("test-node";rd=\d+)")))
        << r->Header("CMSD-Dynamic");
  }
  auto i = daemon_->Get("/ix/v/init.mp4");
  const std::string s = i->Header("CMSD-Static");
  EXPECT_EQ(Key(s, "ot"), "i") << s;
  EXPECT_EQ(Key(s, "d"), "") << s;
  EXPECT_EQ(Key(s, "nor"), "") << s;
  EXPECT_FALSE(i->Header("CMSD-Dynamic").empty());
  // Not on answers that serve nothing.
  EXPECT_EQ(daemon_->Get(Url(n_ + 1000))->Header("CMSD-Static"), "");
}

TEST_F(InteropTest, CmsdDynamicCountsTheHoldAndSaysWhenShedding) {
  // One held GET is enough to pass max_inflight_requests: 1.
  StartDaemon("node_name: busy-node\n",
              "limits: {max_object_size: 1MiB, max_inflight_requests: 1}\n");
  ASSERT_EQ(daemon_->Put(Url(n_), Segment(n_), A())->status, 201);
  EXPECT_EQ(daemon_->Get(Url(n_))->Header("CMSD-Dynamic").find(";du"), std::string::npos);

  const uint64_t next = n_ + 1;  // not yet delivered: held
  HttpClient held("127.0.0.1", daemon_->port());
  ASSERT_TRUE(held.Connect());
  ASSERT_TRUE(held.SendRaw("GET " + Url(next) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(daemon_->WaitForHeld(1));
  // A segment at the live edge now (another rendition, so the held one stays held).
  const uint64_t edge = LiveEdgeNumber(1s);
  const std::string live = "/ix/w/" + std::to_string(edge) + ".m4s";
  ASSERT_EQ(daemon_->Put(live, Segment(edge), A())->status, 201);
  auto busy = daemon_->Get(live);
  ASSERT_EQ(busy->status, 200) << "the live edge is still served";
  EXPECT_TRUE(
      std::regex_match(busy->Header("CMSD-Dynamic"), std::regex(R"("busy-node";rd=\d+;du)")))
      << busy->Header("CMSD-Dynamic");

  ASSERT_EQ(daemon_->Put(Url(next), Segment(next), A())->status, 201);
  auto released = held.ReadResponse();
  ASSERT_TRUE(released);
  ASSERT_EQ(released->status, 200);
  std::smatch m;
  const std::string dynamic = released->Header("CMSD-Dynamic");
  ASSERT_TRUE(std::regex_search(dynamic, m, std::regex(R"(rd=(\d+))"))) << dynamic;
  EXPECT_GE(std::stoll(m[1]), std::stoll(released->Header("X-Live-Held-Ms")))
      << "rd includes the hold";
}

TEST_F(InteropTest, NodeNameDefaultsToTheHostName) {
  StartDaemon("");
  ASSERT_EQ(daemon_->Put(Url(n_), Segment(n_), A())->status, 201);
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(Key(daemon_->Get(Url(n_))->Header("CMSD-Static"), "n"),
            "\"" + std::string(host) + "\"");
}

TEST_F(InteropTest, BrowsersGetCorsOnEveryAnswerAndAPreflight) {
  ASSERT_EQ(daemon_->Put(Url(n_), Segment(n_), A())->status, 201);
  const Headers origin = {{"Origin", "https://player.example"}};
  for (const auto& target : {Url(n_), Url(n_ + 1000), std::string("/nope/x.m4s")}) {
    auto r = daemon_->Get(target, origin);
    EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "*") << target;
    const std::string expose = r->Header("Access-Control-Expose-Headers");
    for (const char* h :
         {"Date", "ETag", "CMSD-Static", "CMSD-Dynamic", "X-Live-Pipeline", "X-Live-Defects"}) {
      EXPECT_NE(expose.find(h), std::string::npos) << target << " " << h;
    }
  }
  HttpClient c("127.0.0.1", daemon_->port());
  auto pre = c.Request("OPTIONS", Url(n_),
                       {{"Origin", "https://player.example"},
                        {"Access-Control-Request-Method", "PUT"},
                        {"Access-Control-Request-Headers", "authorization, content-digest"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->Header("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(pre->Header("Access-Control-Allow-Methods").find("PUT"), std::string::npos);
  EXPECT_NE(pre->Header("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  EXPECT_NE(pre->Header("Access-Control-Allow-Headers").find("Content-Digest"), std::string::npos);
  EXPECT_FALSE(pre->Header("Access-Control-Max-Age").empty());
  auto after = c.Request("GET", Url(n_));  // the connection is still usable
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(InteropTest, CorsCanBeLimitedToListedOrigins) {
  StartDaemon("cors: {allow_origin: [\"https://player.example\"]}\n");
  auto listed = daemon_->Get(Url(n_ + 1000), {{"Origin", "https://player.example"}});
  EXPECT_EQ(listed->Header("Access-Control-Allow-Origin"), "https://player.example");
  EXPECT_EQ(listed->Header("Vary"), "Origin");
  auto other = daemon_->Get(Url(n_ + 1000), {{"Origin", "https://elsewhere.example"}});
  EXPECT_EQ(other->Header("Access-Control-Allow-Origin"), "");
}

TEST_F(InteropTest, WellKnownTimeIsTheOriginsUtcClock) {
  const auto floor_ms = [](std::chrono::system_clock::time_point t) {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
  };
  const auto before = floor_ms(std::chrono::system_clock::now());
  auto r = daemon_->Get("/.well-known/time");
  const auto after = floor_ms(std::chrono::system_clock::now());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Cache-Control"), "no-store");
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "*");
  ASSERT_TRUE(std::regex_match(r->body, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << r->body;
  EXPECT_GE(r->body, Rfc3339(before));
  EXPECT_LE(r->body, Rfc3339(after));
  HttpClient c("127.0.0.1", daemon_->port());
  auto head = c.Request("HEAD", "/.well-known/time");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
}

}  // namespace
}  // namespace liveorigin::testing
