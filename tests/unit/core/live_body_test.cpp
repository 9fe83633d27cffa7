// LiveBody: shared immutable chunks of an upload in progress (SPEC §9), and
// FirstFragmentScan, which tells when such an upload can be followed.
#include "liveorigin/core/live_body.h"

#include <gtest/gtest.h>

#include "fmp4_fixtures.h"
#include "liveorigin/core/first_fragment.h"

namespace liveorigin::core {
namespace {

void RunAll(std::vector<LiveBody::Notify>& notify) {
  for (auto& n : notify) n();
  notify.clear();
}

TEST(LiveBodyTest, ReadersShareTheSameChunks) {
  LiveBody body(LiveBody::Limits{});
  std::vector<LiveBody::Notify> notify;
  ASSERT_TRUE(body.Append("abc", &notify));
  ASSERT_TRUE(body.Append("defg", &notify));
  std::vector<Body> r1, r2;
  EXPECT_EQ(body.Read(0, 64, 1 << 20, &r1), LiveBody::State::kGrowing);
  EXPECT_EQ(body.Read(0, 64, 1 << 20, &r2), LiveBody::State::kGrowing);
  ASSERT_EQ(r1.size(), 2u);
  EXPECT_EQ(*r1[0], "abc");
  EXPECT_EQ(*r1[1], "defg");
  EXPECT_EQ(r1[0].get(), r2[0].get()) << "no copy per reader";
  EXPECT_EQ(body.size(), 7u);
}

TEST(LiveBodyTest, ReadStopsAtTheBatchLimits) {
  LiveBody body(LiveBody::Limits{});
  std::vector<LiveBody::Notify> notify;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(body.Append(std::string(10, 'x'), &notify));
  std::vector<Body> out;
  body.Read(1, 2, 1 << 20, &out);
  EXPECT_EQ(out.size(), 2u);
  out.clear();
  body.Read(0, 64, 25, &out);
  EXPECT_EQ(out.size(), 2u);
  out.clear();
  body.Read(0, 64, 1, &out);
  EXPECT_EQ(out.size(), 1u) << "at least one chunk when one is there";
}

TEST(LiveBodyTest, SubscribersAreNotifiedOnceOnNewBytesAndOnEnd) {
  LiveBody body(LiveBody::Limits{});
  std::vector<LiveBody::Notify> notify;
  int woken = 0;
  const uint64_t id = body.Subscribe(0, [&] { ++woken; });
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(body.Append("x", &notify));
  RunAll(notify);
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(body.Subscribe(0, [&] { ++woken; }), 0u) << "chunk 0 is already there";
  ASSERT_NE(body.Subscribe(1, [&] { ++woken; }), 0u);
  body.Complete(&notify);
  RunAll(notify);
  EXPECT_EQ(woken, 2);
  EXPECT_EQ(body.state(), LiveBody::State::kComplete);
  EXPECT_EQ(body.Subscribe(1, [&] { ++woken; }), 0u) << "the body has ended";
  EXPECT_FALSE(body.Append("more", &notify));
}

TEST(LiveBodyTest, UnsubscribedReaderIsNotNotified) {
  LiveBody body(LiveBody::Limits{});
  std::vector<LiveBody::Notify> notify;
  int woken = 0;
  body.Unsubscribe(body.Subscribe(0, [&] { ++woken; }));
  ASSERT_TRUE(body.Append("x", &notify));
  RunAll(notify);
  EXPECT_EQ(woken, 0);
}

TEST(LiveBodyTest, LimitsFailTheBody) {
  std::vector<LiveBody::Notify> notify;
  LiveBody small(LiveBody::Limits{10, 100});
  ASSERT_TRUE(small.Append("12345", &notify));
  EXPECT_FALSE(small.Append("123456", &notify));
  EXPECT_EQ(small.state(), LiveBody::State::kFailed);
  EXPECT_NE(small.failure().find("max_object_size"), std::string::npos);

  LiveBody few(LiveBody::Limits{1000, 3});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(few.Append("x", &notify));
  EXPECT_FALSE(few.Append("x", &notify));
  EXPECT_EQ(few.state(), LiveBody::State::kFailed);
}

TEST(LiveBodyTest, FailWakesReadersAndEndsTheBody) {
  LiveBody body(LiveBody::Limits{});
  std::vector<LiveBody::Notify> notify;
  int woken = 0;
  ASSERT_NE(body.Subscribe(0, [&] { ++woken; }), 0u);
  body.Fail("cut off", &notify);
  RunAll(notify);
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(body.state(), LiveBody::State::kFailed);
  body.Complete(&notify);
  EXPECT_EQ(body.state(), LiveBody::State::kFailed) << "an ended body stays as it ended";
}

TEST(FirstFragmentScanTest, FindsTheEndOfTheFirstMoofByteByByte) {
  const std::string seg = testing::Fixture("ldash_video_1.m4s");
  const size_t moof = testing::RequireBox(seg, {"moof"});
  const size_t moof_end = moof + testing::Be32(seg, moof);
  FirstFragmentScan scan;
  for (size_t n = 0; n < moof_end; ++n) {
    ASSERT_EQ(scan.Scan(std::string_view(seg).substr(0, n)), FirstFragmentScan::Result::kNeedMore)
        << n;
  }
  ASSERT_EQ(scan.Scan(std::string_view(seg).substr(0, moof_end)),
            FirstFragmentScan::Result::kFound);
  EXPECT_EQ(scan.moof_end(), moof_end);
}

TEST(FirstFragmentScanTest, RejectsWhatCanNeverBeAMediaSegment) {
  FirstFragmentScan tiny;
  EXPECT_EQ(tiny.Scan(std::string("\0\0\0\4styp", 8)), FirstFragmentScan::Result::kMalformed);
  FirstFragmentScan mdat_first;
  EXPECT_EQ(mdat_first.Scan(std::string("\0\0\0\x10mdat12345678", 16)),
            FirstFragmentScan::Result::kMalformed);
  FirstFragmentScan to_end;
  EXPECT_EQ(to_end.Scan(std::string("\0\0\0\0moof", 8)), FirstFragmentScan::Result::kMalformed);
}

}  // namespace
}  // namespace liveorigin::core
