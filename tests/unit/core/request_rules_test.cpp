// Request targets, pipeline identification, content types, defect headers and
// the live timeline.
#include <gtest/gtest.h>

#include "liveorigin/common/bytes.h"
#include "liveorigin/core/content_type.h"
#include "liveorigin/core/defects.h"
#include "liveorigin/core/live_timeline.h"
#include "liveorigin/core/log_limiter.h"
#include "liveorigin/core/pipeline_auth.h"
#include "liveorigin/core/request_target.h"

namespace liveorigin::core {
namespace {

using namespace std::chrono_literals;

TEST(RequestTargetTest, SplitsEventAndPath) {
  auto t = ParseRequestTarget("/demo/video/1/00042.m4s?token=x");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->event, "demo");
  EXPECT_EQ(t->path, "video/1/00042.m4s");
  auto e = ParseRequestTarget("/demo");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->event, "demo");
  EXPECT_EQ(e->path, "");
  auto pct = ParseRequestTarget("/demo/a%20b.vtt");
  ASSERT_TRUE(pct.ok());
  EXPECT_EQ(pct->path, "a b.vtt");
}

TEST(RequestTargetTest, RefusesEveryBadShapeWithAReason) {
  const std::pair<std::string, std::string> bad[] = {
      {"demo/x", "absolute"},
      {"/demo/../x", ".."},
      {"/demo/./x", "'.'"},
      {"/demo/%2E%2E/x", ".."},
      {"/demo/a%00b", "NUL"},
      {"/demo/a\x01"
       "b",
       "control"},
      {"/demo//x", "empty"},
      {"/demo/x/", "empty"},
      {"/demo/a%2", "percent"},
      {"/demo/a%g1", "percent"},
      {"/demo/a\\b", "backslash"},
      {"/" + std::string(1030, 'a'), "1024"},
      {"", "absolute"},
  };
  for (const auto& [target, why] : bad) {
    auto t = ParseRequestTarget(target);
    ASSERT_FALSE(t.ok()) << target;
    EXPECT_NE(t.status().message().find(why), std::string::npos)
        << target << ": " << t.status().message();
  }
}

config::EventConfig EventWith(std::vector<config::PipelineConfig> pipelines) {
  config::EventConfig e;
  e.id = "demo";
  e.pipelines = std::move(pipelines);
  return e;
}

Request WithHeader(const std::string& name, const std::string& value) {
  Request r;
  r.method = "PUT";
  r.headers.emplace_back(name, value);
  return r;
}

TEST(PipelineAuthTest, BasicBearerAndRefusals) {
  const auto e = EventWith({{"a", "ta"}, {"b", "tb"}});
  auto basic = IdentifyPipeline(e, WithHeader("Authorization", "Basic " + Base64Encode("b:tb")));
  EXPECT_EQ(basic.status, 0);
  EXPECT_EQ(basic.pipeline, "b");
  auto lower = IdentifyPipeline(e, WithHeader("authorization", "basic " + Base64Encode("a:ta")));
  EXPECT_EQ(lower.pipeline, "a");
  auto bearer = IdentifyPipeline(e, WithHeader("Authorization", "Bearer tb"));
  EXPECT_EQ(bearer.pipeline, "b");
  EXPECT_EQ(IdentifyPipeline(e, Request{}).status, 401);
  EXPECT_EQ(IdentifyPipeline(e, WithHeader("X-Live-Pipeline", "a")).status, 401);
  EXPECT_EQ(
      IdentifyPipeline(e, WithHeader("Authorization", "Basic " + Base64Encode("a:tb"))).status,
      403);
  EXPECT_EQ(
      IdentifyPipeline(e, WithHeader("Authorization", "Basic " + Base64Encode("c:ta"))).status,
      403);
  EXPECT_EQ(IdentifyPipeline(e, WithHeader("Authorization", "Basic !!!")).status, 401);
  EXPECT_EQ(IdentifyPipeline(e, WithHeader("Authorization", "Digest x")).status, 401);
  EXPECT_EQ(IdentifyPipeline(e, WithHeader("Authorization", "Bearer t")).status, 403);
  auto wrong =
      IdentifyPipeline(e, WithHeader("Authorization", "Basic " + Base64Encode("a:secretX")));
  EXPECT_EQ(wrong.message.find("secretX"), std::string::npos) << "tokens never appear in messages";
}

TEST(PipelineAuthTest, TokenlessEvents) {
  const auto two = EventWith({{"a", std::nullopt}, {"b", std::nullopt}});
  EXPECT_EQ(IdentifyPipeline(two, WithHeader("X-Live-Pipeline", "b")).pipeline, "b");
  EXPECT_EQ(IdentifyPipeline(two, WithHeader("X-Live-Pipeline", "zz")).status, 403);
  EXPECT_EQ(IdentifyPipeline(two, Request{}).status, 401) << "several pipelines: must name one";
  EXPECT_EQ(
      IdentifyPipeline(two, WithHeader("Authorization", "Basic " + Base64Encode("a:any"))).pipeline,
      "a");
  const auto one = EventWith({{"only", std::nullopt}});
  auto anon = IdentifyPipeline(one, Request{});
  EXPECT_EQ(anon.status, 0);
  EXPECT_EQ(anon.pipeline, "only");
}

TEST(ContentTypeTest, ByExtensionThenPutTypeThenOctetStream) {
  EXPECT_EQ(ContentTypeFor("v/1.m4s", "text/plain"), "video/iso.segment");
  EXPECT_EQ(ContentTypeFor("init.mp4", ""), "video/mp4");
  EXPECT_EQ(ContentTypeFor("a.m4a", ""), "audio/mp4");
  EXPECT_EQ(ContentTypeFor("manifest.MPD", ""), "application/dash+xml");
  EXPECT_EQ(ContentTypeFor("index.m3u8", ""), "application/vnd.apple.mpegurl");
  EXPECT_EQ(ContentTypeFor("en.vtt", ""), "text/vtt");
  EXPECT_EQ(ContentTypeFor("en.ttml", ""), "application/ttml+xml");
  EXPECT_EQ(ContentTypeFor("seg.ts", ""), "video/mp2t");
  EXPECT_EQ(ContentTypeFor("thing.bin", "image/png"), "image/png");
  EXPECT_EQ(ContentTypeFor("dir.v/noext", ""), "application/octet-stream");
  EXPECT_TRUE(IsManifestPath("x/index.m3u8"));
  EXPECT_FALSE(IsManifestPath("x/1.m4s"));
}

TEST(DefectsTest, HeaderParsingAndSeverity) {
  EXPECT_EQ(ParseDefectHeader(" Slate, short-duration ,,slate"),
            (std::vector<std::string>{"slate", "short-duration"}));
  EXPECT_EQ(ParseDefectHeader("ok-token, b@d"), (std::vector<std::string>{"ok-token", "invalid"}));
  EXPECT_LT(DefectSeverity("slate"), DefectSeverity("short-duration"));
  EXPECT_EQ(DefectSeverity("short-duration"), DefectSeverity("missing-video-samples"));
  EXPECT_LT(DefectSeverity("missing-audio-samples"), DefectSeverity("timing-discontinuity"));
  EXPECT_LT(DefectSeverity("timing-discontinuity"), DefectSeverity("decode-error"));
  EXPECT_LT(DefectSeverity("decode-error"), DefectSeverity("corrupt"));
  EXPECT_FALSE(IsKnownDefect("weird"));
  EXPECT_TRUE(IsKnownDefect("missing-segment"));
  std::string many;
  for (int i = 0; i < 100; ++i) many += "t" + std::to_string(i) + ",";
  EXPECT_EQ(ParseDefectHeader(many).size(), 16u) << "bounded";
}

TEST(LiveTimelineTest, AvailabilityLiveEdgeAndWindow) {
  config::EventConfig e;
  e.availability_start_time = std::chrono::system_clock::time_point(1000s);
  e.start_number = 10;
  e.segment_duration = 2s;
  e.dvr_window = 10s;
  const LiveTimeline tl(e);
  EXPECT_EQ(tl.AvailabilityTime(10), TimePoint(1002s));
  EXPECT_EQ(tl.AvailabilityTime(14), TimePoint(1010s));
  EXPECT_EQ(tl.DvrSegments(), 5u);
  EXPECT_FALSE(tl.LiveEdge(TimePoint(1001999ms)).has_value());
  EXPECT_EQ(tl.LiveEdge(TimePoint(1002s)), 10u) << "exactly at availability";
  EXPECT_EQ(tl.LiveEdge(TimePoint(1003999ms)), 10u);
  EXPECT_EQ(tl.LiveEdge(TimePoint(1004s)), 11u);
  EXPECT_EQ(tl.FirstInWindow(TimePoint(1004s)), 10u) << "never before start_number";
  EXPECT_EQ(tl.FirstInWindow(TimePoint(1030s)), 19u) << "edge 24 minus 5 segments";
}

TEST(LogLimiterTest, BurstPerKeyThenSilenceThenReportsWhatWasDropped) {
  LogLimiter limiter(3, std::chrono::seconds(10));
  const auto t0 = std::chrono::steady_clock::time_point(std::chrono::hours(1));
  uint64_t dropped = 99;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("a", &dropped, t0));
  EXPECT_EQ(dropped, 0u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Allow("a", &dropped, t0 + 1s));
  EXPECT_TRUE(limiter.Allow("b", &dropped, t0 + 1s)) << "keys are independent";
  EXPECT_TRUE(limiter.Allow("a", &dropped, t0 + 11s)) << "a new window";
  EXPECT_EQ(dropped, 5u);
}

}  // namespace
}  // namespace liveorigin::core
