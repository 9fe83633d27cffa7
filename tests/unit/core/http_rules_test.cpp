// The small HTTP rule files: single byte ranges (RFC 9110 §14),
// If-None-Match (§13.1.2) and the Cache-Control policy (SPEC §5.3).
#include <gtest/gtest.h>

#include "liveorigin/core/byte_range.h"
#include "liveorigin/core/cache_policy.h"
#include "liveorigin/core/entity_tag.h"

namespace liveorigin::core {
namespace {

using namespace std::chrono_literals;

struct RangeCase {
  const char* header;
  uint64_t size;
  RangeParse want;
  uint64_t first = 0, last = 0;
};

TEST(ByteRangeTest, SingleRangesAndEveryRefusal) {
  const RangeCase cases[] = {
      {"bytes=0-99", 1000, RangeParse::kOk, 0, 99},
      {"bytes=100-", 1000, RangeParse::kOk, 100, 999},
      {"bytes=-100", 1000, RangeParse::kOk, 900, 999},
      {"bytes=-5000", 1000, RangeParse::kOk, 0, 999},  // suffix longer than the object
      {"bytes=990-5000", 1000, RangeParse::kOk, 990, 999},
      {"bytes=999-999", 1000, RangeParse::kOk, 999, 999},
      {"bytes=1000-", 1000, RangeParse::kUnsatisfiable},
      {"bytes=-0", 1000, RangeParse::kUnsatisfiable},
      {"bytes=-1", 0, RangeParse::kUnsatisfiable},
      {"bytes=0-1,5-6", 1000, RangeParse::kNone},  // several ranges: whole object
      {"items=0-1", 1000, RangeParse::kNone},
      {"bytes=5-1", 1000, RangeParse::kNone},
      {"bytes=a-b", 1000, RangeParse::kNone},
      {"bytes=", 1000, RangeParse::kNone},
      {"bytes=-", 1000, RangeParse::kNone},
      {"bytes=1", 1000, RangeParse::kNone},
      {"bytes=99999999999999999999999-", 1000, RangeParse::kNone},  // overflow
  };
  for (const auto& c : cases) {
    ByteRange r;
    EXPECT_EQ(ParseRange(c.header, c.size, &r), c.want) << c.header;
    if (c.want == RangeParse::kOk) {
      EXPECT_EQ(r.first, c.first) << c.header;
      EXPECT_EQ(r.last, c.last) << c.header;
      EXPECT_EQ(r.length(), c.last - c.first + 1) << c.header;
    }
  }
}

TEST(EntityTagTest, IfNoneMatchComparesWeaklyAndTakesLists) {
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "abc"));
  EXPECT_TRUE(IfNoneMatchMatches("W/\"abc\"", "abc"));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", \"abc\"", "abc"));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\",\t\"abc\" ", "abc"));
  EXPECT_TRUE(IfNoneMatchMatches("*", "abc"));
  EXPECT_FALSE(IfNoneMatchMatches("\"abcd\"", "abc"));
  EXPECT_FALSE(IfNoneMatchMatches("abc", "abc")) << "unquoted is not an entity tag";
  EXPECT_FALSE(IfNoneMatchMatches("", "abc"));
  EXPECT_FALSE(IfNoneMatchMatches(",,", "abc"));
}

config::EventConfig Event() {
  config::EventConfig cfg;
  cfg.id = "ev";
  cfg.availability_start_time = TimePoint(0s);
  cfg.start_number = 0;
  cfg.segment_duration = 2s;
  cfg.dvr_window = 60s;
  cfg.manifest_max_age = 1s;
  return cfg;
}

storage::CandidateRecord Segment(uint64_t n, std::vector<std::string> defects = {}) {
  storage::CandidateRecord r;
  r.kind = storage::ObjectKind::kSegment;
  r.id.number = n;
  r.header_defects = std::move(defects);
  return r;
}

TEST(CachePolicyTest, LifetimesFollowSpec53) {
  const auto cfg = Event();
  // Segment 10 is available at 22 s and answers 410 from 22 + 60 + 2 = 84 s.
  EXPECT_EQ(CacheControlFor(cfg, Segment(10), TimePoint(22s)), "public, max-age=62");
  EXPECT_EQ(CacheControlFor(cfg, Segment(10), TimePoint(83s) + 500ms), "public, max-age=1");
  EXPECT_EQ(CacheControlFor(cfg, Segment(10), TimePoint(90s)), "public, max-age=1") << "floor 1";
  EXPECT_EQ(CacheControlFor(cfg, Segment(10, {"slate"}), TimePoint(22s)), "public, max-age=2")
      << "defective: one segment duration";
  EXPECT_EQ(CacheControlFor(cfg, Segment(10), TimePoint(22s), /*durable=*/false),
            "public, max-age=2")
      << "a clean choice whose sticky record is not durable gets the short lifetime";
  storage::CandidateRecord init;
  init.kind = storage::ObjectKind::kInit;
  EXPECT_EQ(CacheControlFor(cfg, init, TimePoint(22s)), "public, max-age=60");
  storage::CandidateRecord mpd;
  mpd.kind = storage::ObjectKind::kOther;
  EXPECT_EQ(CacheControlFor(cfg, mpd, TimePoint(22s)), "public, max-age=1");
  auto zero = cfg;
  zero.manifest_max_age = 0ms;
  EXPECT_EQ(CacheControlFor(zero, mpd, TimePoint(22s)), "public, max-age=0");
  EXPECT_EQ(CacheControlNotYetAvailable(TimePoint(30s), TimePoint(25s) + 100ms),
            "public, max-age=5");
  EXPECT_EQ(CacheControlNotYetAvailable(TimePoint(30s), TimePoint(30s)), "public, max-age=1");
  EXPECT_EQ(CacheControlGone(cfg), "public, max-age=60");
}

}  // namespace
}  // namespace liveorigin::core
