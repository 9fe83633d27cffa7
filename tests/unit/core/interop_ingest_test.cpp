// SPEC §11 through OriginService without sockets: POST is PUT, the empty
// probe, gzip bodies, Content-Digest, CMSD and Repr-Digest on delivery, the
// time source and CORS preflight. Every refusal stores nothing.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>

#include "liveorigin/common/bytes.h"
#include "liveorigin/common/structured_fields.h"
#include "liveorigin/common/units.h"
#include "liveorigin/core/content_digest.h"
#include "liveorigin/core/origin_service.h"
#include "manual_scheduler.h"
#include "memory_segment_store.h"
#include "origin_harness.h"

namespace liveorigin::core {
namespace {

using namespace liveorigin::testing;

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

std::string ContentDigest(const std::string& bytes) { return FormatSha256Field(Sha256(bytes)); }

class InteropIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.Apply({EvConfig()});
    OriginOptions options;
    options.max_object_size = 1 << 20;
    options.node_name = "unit-node";
    service_ =
        std::make_shared<OriginService>(registry_, *store_, cache_, metrics_, clock_,
                                        OriginExecutors{inline_, inline_, scheduler_}, options);
    scheduler_.AdvanceTo(Avail(1) + 1s);
  }
  void TearDown() override {
    scheduler_.Clear();
    service_.reset();
  }

  // One upload through BeginUpload → Append → Finish with the given method.
  Response Upload(const std::string& method, const std::string& path, const std::string& body,
                  HeaderList extra = {}) {
    Request req;
    req.method = method;
    req.target = "/ev/" + path;
    req.headers = {{"X-Live-Pipeline", "a"}};
    for (auto& h : extra) req.headers.push_back(std::move(h));
    req.remote = "127.0.0.1:5000";
    Response refusal;
    if (!service_->IsUpload(method)) return Response::Error(599, "not_an_upload", method);
    auto sink = service_->BeginUpload(req, &refusal);
    if (!sink) return refusal;
    for (size_t off = 0; off < body.size(); off += 1000) {
      if (!sink->Append(std::string_view(body).substr(off, 1000))) break;
    }
    std::optional<Response> answer;
    sink->Finish([&answer](Response r) { answer = std::move(r); });
    return answer.value_or(Response::Error(599, "test", "not answered inline"));
  }
  std::shared_ptr<Reply> Get(const std::string& path, HeaderList headers = {}) {
    return Call(*service_, "GET", "/ev/" + path, std::move(headers));
  }
  size_t Stored() const { return store_->CandidateCount(); }

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

TEST_F(InteropIngestTest, PostIsPut) {
  EXPECT_TRUE(service_->IsUpload("POST"));
  EXPECT_TRUE(service_->IsUpload("PUT"));
  EXPECT_FALSE(service_->IsUpload("GET"));
  EXPECT_EQ(Upload("POST", Path(1), Seg(1)).status, 201);
  EXPECT_EQ(Upload("POST", Path(1), Seg(1)).status, 204);
  EXPECT_EQ(Get(Path(1))->status(), 200);
}

TEST_F(InteropIngestTest, EmptyProbeAnswers200AndStoresNothing) {
  for (const char* method : {"PUT", "POST"}) {
    EXPECT_EQ(Upload(method, Path(1), "").status, 200) << method;
    EXPECT_EQ(Upload(method, "manifest.mpd", "", {{"Content-Encoding", "gzip"}}).status, 200);
  }
  EXPECT_EQ(Stored(), 0u);
  EXPECT_EQ(Get("manifest.mpd")->status(), 404);
}

TEST_F(InteropIngestTest, ProbeIsStillCheckedLikeAnyUpload) {
  Request req;
  req.method = "POST";
  req.target = "/ev/" + Path(1);
  req.headers = {{"X-Live-Pipeline", "nobody"}};
  Response refusal;
  EXPECT_EQ(service_->BeginUpload(req, &refusal), nullptr);
  EXPECT_EQ(refusal.status, 403);
}

TEST_F(InteropIngestTest, GzipBodyIsDecodedBeforeInspectionAndStorage) {
  const std::string seg = Seg(1);
  Response r = Upload("PUT", Path(1), Gzip(seg), {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 201) << r.BodyView();
  EXPECT_FALSE(r.Header("X-Live-Defects").has_value()) << "inspected decoded: clean";
  auto got = Get(Path(1));
  EXPECT_EQ(got->body(), seg);
  EXPECT_EQ(got->header("ETag"), "\"" + ContentHash(seg) + "\"");
}

TEST_F(InteropIngestTest, GzipRefusalsStoreNothing) {
  const std::string bomb = Gzip(std::string((1 << 20) + 1, '\0'));
  Response big = Upload("PUT", Path(1), bomb, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(big.status, 413);
  const std::string gz = Gzip(Seg(1));
  Response truncated =
      Upload("PUT", Path(1), gz.substr(0, gz.size() - 4), {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(truncated.status, 400);
  EXPECT_NE(truncated.BodyView().find("bad_encoding"), std::string_view::npos);
  Response corrupt = Upload("PUT", Path(1), Seg(1), {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(corrupt.status, 400);
  Response unknown = Upload("PUT", Path(1), Seg(1), {{"Content-Encoding", "br"}});
  EXPECT_EQ(unknown.status, 415);
  EXPECT_EQ(unknown.Header("Accept-Encoding").value_or(""), "gzip");
  EXPECT_EQ(Stored(), 0u);
}

TEST_F(InteropIngestTest, ContentDigestIsVerified) {
  const std::string seg = Seg(1);
  Response mismatch = Upload("PUT", Path(1), seg, {{"Content-Digest", ContentDigest(seg + "x")}});
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_NE(mismatch.BodyView().find("\"digest_mismatch\""), std::string_view::npos);
  Response malformed = Upload("PUT", Path(1), seg, {{"Content-Digest", "sha-256=:short:"}});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.BodyView().find("\"bad_digest\""), std::string_view::npos);
  EXPECT_EQ(Stored(), 0u);
  EXPECT_EQ(Upload("PUT", Path(1), seg, {{"Content-Digest", "md5=:AAAA:, unknown=1"}}).status, 201)
      << "algorithms not understood are ignored";
  EXPECT_EQ(Upload("PUT", Path(2), seg, {{"Content-Digest", ContentDigest(seg)}}).status, 201);
  EXPECT_NE(metrics_.Render().find("reason=\"digest_mismatch\""), std::string::npos);
}

TEST_F(InteropIngestTest, CmsdStaticCarriesTheFirstByteTimeOfTheServedCandidate) {
  Request req;
  req.method = "PUT";
  req.target = "/ev/" + Path(1);
  req.headers = {{"X-Live-Pipeline", "a"}};
  Response refusal;
  auto sink = service_->BeginUpload(req, &refusal);
  ASSERT_NE(sink, nullptr);
  const TimePoint first_byte = clock_.Now();
  const std::string seg = Seg(1);
  ASSERT_TRUE(sink->Append(std::string_view(seg).substr(0, 100)));
  scheduler_.Advance(1500ms);  // the body trickles in
  ASSERT_TRUE(sink->Append(std::string_view(seg).substr(100)));
  std::optional<Response> stored;
  sink->Finish([&stored](Response r) { stored = std::move(r); });
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->status, 201);

  auto got = Get(Path(1));
  ASSERT_EQ(got->status(), 200);
  auto cmsd = sf::ParseDictionary(got->header("CMSD-Static"));
  ASSERT_TRUE(cmsd.ok()) << got->header("CMSD-Static");
  std::map<std::string, sf::BareItem> keys;
  for (const auto& [k, v] : *cmsd) keys[k] = std::get<sf::Item>(v).value;
  EXPECT_EQ(std::get<int64_t>(keys.at("at")), ToUnixMillis(first_byte));
  EXPECT_EQ(std::get<int64_t>(keys.at("d")), 2000);
  EXPECT_EQ(std::get<int64_t>(keys.at("br")),
            static_cast<int64_t>(std::llround(seg.size() * 8.0 / 2000)));
  EXPECT_EQ(std::get<std::string>(keys.at("n")), "unit-node");
  EXPECT_EQ(std::get<std::string>(keys.at("nor")), "2.m4s");
  EXPECT_EQ(std::get<sf::Token>(keys.at("st")).value, "l");
  EXPECT_TRUE(got->response->cmsd_dynamic);
}

TEST_F(InteropIngestTest, ReprDigestOnlyWhenAskedAndOfTheWholeObject) {
  const std::string seg = Seg(1);
  ASSERT_EQ(Upload("PUT", Path(1), seg).status, 201);
  EXPECT_EQ(service_->delivery_headers().digests_computed(), 0u) << "never on the PUT path";
  EXPECT_EQ(Get(Path(1))->header("Repr-Digest"), "<absent>");
  auto ranged = Get(Path(1), {{"Want-Repr-Digest", "sha-256=1"}, {"Range", "bytes=0-9"}});
  EXPECT_EQ(ranged->status(), 206);
  EXPECT_EQ(ranged->header("Repr-Digest"), ContentDigest(seg));
  EXPECT_EQ(Get(Path(1), {{"Want-Repr-Digest", "sha-256=3"}})->header("Repr-Digest"),
            ContentDigest(seg));
  EXPECT_EQ(service_->delivery_headers().digests_computed(), 1u) << "once per candidate";
}

TEST_F(InteropIngestTest, TimeSourceAndPreflight) {
  auto t = Call(*service_, "GET", "/.well-known/time");
  EXPECT_EQ(t->status(), 200);
  EXPECT_EQ(t->body(), FormatTimestamp(clock_.Now()));
  EXPECT_EQ(t->header("Cache-Control"), "no-store");
  auto pre = Call(*service_, "OPTIONS", "/ev/" + Path(1),
                  {{"Origin", "https://player.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(pre->status(), 204);
  EXPECT_NE(pre->header("Access-Control-Allow-Methods"), "<absent>");
}

}  // namespace
}  // namespace liveorigin::core
