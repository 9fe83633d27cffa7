// Headers of delivery answers that do not depend on the request are built
// once per candidate; CORS values are fixed; the time source.
#include "liveorigin/core/delivery_headers.h"

#include <gtest/gtest.h>

#include "liveorigin/core/content_digest.h"
#include "liveorigin/core/cors.h"
#include "liveorigin/core/well_known_time.h"

namespace liveorigin::core {
namespace {

std::shared_ptr<const config::EventConfig> Event(int d_ms) {
  auto e = std::make_shared<config::EventConfig>();
  e->id = "ev";
  e->segment_duration = std::chrono::milliseconds(d_ms);
  e->media_template = config::SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value();
  return e;
}

storage::CandidateRecord Record() {
  storage::CandidateRecord r;
  r.id = {"ev", "v/7.m4s", "v", 7, "a"};
  r.kind = storage::ObjectKind::kSegment;
  r.size = 4;
  r.first_byte_unix_ms = 1000;
  return r;
}

Request Get(std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.method = "GET";
  r.headers = std::move(headers);
  return r;
}

TEST(DeliveryHeadersTest, AddsCmsdStaticAndAsksForDynamic) {
  DeliveryHeaders h("node-a");
  Response r;
  h.Apply(Get(), Event(2000), Record(), "key", "body", &r);
  EXPECT_EQ(r.Header("CMSD-Static").value_or(""),
            R"(at=1000,br=0,d=2000,n="node-a",nor="8.m4s",st=l)");
  EXPECT_TRUE(r.cmsd_dynamic);
  EXPECT_FALSE(r.Header("Repr-Digest").has_value()) << "nobody asked";
}

TEST(DeliveryHeadersTest, ReprDigestIsComputedOncePerCandidate) {
  DeliveryHeaders h("n");
  const auto event = Event(2000);
  const auto want = Get({{"Want-Repr-Digest", "sha-256=1"}});
  for (int i = 0; i < 3; ++i) {
    Response r;
    h.Apply(want, event, Record(), "key", "body", &r);
    EXPECT_EQ(r.Header("Repr-Digest").value_or(""), FormatSha256Field(Sha256("body")));
  }
  EXPECT_EQ(h.digests_computed(), 1u);
  Response other;
  h.Apply(want, event, Record(), "other-key", "body2", &other);
  EXPECT_EQ(h.digests_computed(), 2u);
}

TEST(DeliveryHeadersTest, DigestVerifiedAtIngestNeedsNoHashing) {
  DeliveryHeaders h("n");
  storage::CandidateRecord rec = Record();
  rec.sha256 = Sha256("body");
  Response r;
  h.Apply(Get({{"Want-Repr-Digest", "sha-256=5"}}), Event(2000), rec, "key", "body", &r);
  EXPECT_EQ(r.Header("Repr-Digest").value_or(""), FormatSha256Field(Sha256("body")));
  EXPECT_EQ(h.digests_computed(), 0u);
}

TEST(DeliveryHeadersTest, CmsdStaticIsRebuiltForANewEventConfiguration) {
  DeliveryHeaders h("n");
  const auto before = Event(2000), after = Event(4000);
  Response a, b, c;
  h.Apply(Get(), before, Record(), "key", "body", &a);
  h.Apply(Get(), after, Record(), "key", "body", &b);
  h.Apply(Get(), after, Record(), "key", "body", &c);
  EXPECT_NE(a.Header("CMSD-Static")->find("d=2000"), std::string_view::npos);
  EXPECT_NE(b.Header("CMSD-Static")->find("d=4000"), std::string_view::npos);
  EXPECT_EQ(*b.Header("CMSD-Static"), *c.Header("CMSD-Static"));
}

TEST(DeliveryHeadersTest, DynamicOnlyOnDeliveryAnswers) {
  DeliveryHeaders h("node-a");
  Request req = Get();
  req.received = std::chrono::steady_clock::now();
  Response plain;
  h.ApplyDynamic(req, false, &plain);
  EXPECT_FALSE(plain.Header("CMSD-Dynamic").has_value());
  Response delivery;
  delivery.cmsd_dynamic = true;
  h.ApplyDynamic(req, true, &delivery);
  const std::string v(delivery.Header("CMSD-Dynamic").value_or(""));
  EXPECT_EQ(v.rfind("\"node-a\";rd=", 0), 0u) << v;
  EXPECT_EQ(v.substr(v.size() - 3), ";du") << v;
}

TEST(CorsPolicyTest, AnyOriginByDefault) {
  CorsPolicy cors;
  Response r;
  cors.Apply(Get(), &r);
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin").value_or(""), "*");
  const std::string expose(r.Header("Access-Control-Expose-Headers").value_or(""));
  for (const char* h :
       {"Date", "ETag", "CMSD-Static", "CMSD-Dynamic", "X-Live-Pipeline", "X-Live-Defects"}) {
    EXPECT_NE(expose.find(h), std::string::npos) << h;
  }
  EXPECT_FALSE(r.Header("Vary").has_value());
}

TEST(CorsPolicyTest, ListedOriginsAreEchoedOthersGetNothing) {
  CorsPolicy cors({"https://a.example", "https://b.example:8443"});
  Response listed;
  cors.Apply(Get({{"Origin", "https://b.example:8443"}}), &listed);
  EXPECT_EQ(listed.Header("Access-Control-Allow-Origin").value_or(""), "https://b.example:8443");
  EXPECT_EQ(listed.Header("Vary").value_or(""), "Origin");
  Response other;
  cors.Apply(Get({{"Origin", "https://evil.example"}}), &other);
  EXPECT_FALSE(other.Header("Access-Control-Allow-Origin").has_value());
  EXPECT_EQ(other.Header("Vary").value_or(""), "Origin");
}

TEST(CorsPolicyTest, EmptyListTurnsCorsOff) {
  CorsPolicy cors(std::vector<std::string>{});
  Response r;
  cors.Apply(Get({{"Origin", "https://a.example"}}), &r);
  EXPECT_TRUE(r.headers.empty());
}

TEST(CorsPolicyTest, PreflightIs204WithMethodsHeadersAndMaxAge) {
  CorsPolicy cors;
  Request pre = Get({{"Origin", "https://a.example"}, {"Access-Control-Request-Method", "PUT"}});
  pre.method = "OPTIONS";
  const Response r = cors.Preflight(pre);
  EXPECT_EQ(r.status, 204);
  EXPECT_NE(r.Header("Access-Control-Allow-Methods")->find("POST"), std::string_view::npos);
  EXPECT_NE(r.Header("Access-Control-Allow-Headers")->find("Content-Digest"),
            std::string_view::npos);
  EXPECT_EQ(r.Header("Access-Control-Max-Age").value_or(""), "7200");
  EXPECT_EQ(r.length, 0u);
}

TEST(WellKnownTimeTest, IsoTimeWithMillisecondsNotCached) {
  EXPECT_TRUE(IsTimeTarget("/.well-known/time"));
  EXPECT_TRUE(IsTimeTarget("/.well-known/time?x=1"));
  EXPECT_FALSE(IsTimeTarget("/.well-known/timex"));
  EXPECT_FALSE(IsTimeTarget("/.well-known"));
  const Response r = TimeResponse(TimePoint(std::chrono::milliseconds(1714564800123)));
  EXPECT_EQ(r.BodyView(), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(r.Header("Cache-Control").value_or(""), "no-store");
}

}  // namespace
}  // namespace liveorigin::core
