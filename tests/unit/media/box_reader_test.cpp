#include "box_reader.h"

#include <gtest/gtest.h>

#include "box_builder.h"

namespace liveorigin::media {
namespace {

using testing::Box;
using testing::Bytes;
using testing::Cat;
using testing::FourCC;
using testing::LargeBox;
using testing::U32;
using testing::U64;
using testing::Zeros;

TEST(BoxIteratorTest, IteratesTopLevelBoxes) {
  const Bytes data = Cat({Box("free", {Zeros(4)}), LargeBox("skip", {Zeros(3)})});
  BoxIterator it(data);
  BoxHeader h;
  ASSERT_TRUE(it.Next(&h));
  EXPECT_EQ(h.type, MakeFourCC("free"));
  EXPECT_EQ(h.size, 12u);
  EXPECT_EQ(h.header_size, 8u);
  ASSERT_TRUE(it.Next(&h));
  EXPECT_EQ(h.type, MakeFourCC("skip"));
  EXPECT_EQ(h.offset, 12u);
  EXPECT_EQ(h.size, 19u);
  EXPECT_EQ(h.header_size, 16u);
  EXPECT_FALSE(h.truncated);
  EXPECT_FALSE(it.Next(&h));
  EXPECT_TRUE(IsOk(it.error()));
}

TEST(BoxIteratorTest, SizeZeroRunsToEndOfInput) {
  const Bytes data = Cat({U32(0), FourCC("mdat"), Zeros(100)});
  BoxIterator it(data);
  BoxHeader h;
  ASSERT_TRUE(it.Next(&h));
  EXPECT_EQ(h.size, 108u);
  EXPECT_FALSE(it.Next(&h));
  EXPECT_TRUE(IsOk(it.error()));
}

TEST(BoxIteratorTest, SizeZeroRunsToEndOfParent) {
  const Bytes data = Cat({Box("moof", {U32(0), FourCC("traf"), Zeros(4)}), Box("free", {})});
  BoxIterator top(data);
  BoxHeader moof;
  ASSERT_TRUE(top.Next(&moof));
  BoxIterator children(data, moof, 1);
  BoxHeader traf;
  ASSERT_TRUE(children.Next(&traf));
  EXPECT_EQ(traf.size, 12u);
  EXPECT_FALSE(children.Next(&traf));
  EXPECT_TRUE(IsOk(children.error()));
}

TEST(BoxIteratorTest, TopLevelBoxPastEndIsNeedMoreData) {
  const Bytes data = Cat({U32(1000), FourCC("mdat"), Zeros(10)});
  BoxIterator it(data);
  BoxHeader h;
  ASSERT_TRUE(it.Next(&h));
  EXPECT_TRUE(h.truncated);
  EXPECT_EQ(h.size, 1000u);
  EXPECT_FALSE(it.Next(&h));
  EXPECT_EQ(it.error().status, ParseStatus::kNeedMoreData);
}

TEST(BoxIteratorTest, PartialTopLevelHeaderIsNeedMoreData) {
  for (const Bytes& data : {Bytes{0, 0, 0}, Cat({U32(1), FourCC("mdat"), Zeros(4)})}) {
    BoxIterator it(data);
    BoxHeader h;
    EXPECT_FALSE(it.Next(&h));
    EXPECT_EQ(it.error().status, ParseStatus::kNeedMoreData);
  }
}

TEST(BoxIteratorTest, SizeSmallerThanHeaderIsMalformed) {
  for (const Bytes& data :
       {Cat({U32(7), FourCC("free"), Zeros(8)}), Cat({U32(1), FourCC("free"), U64(15), Zeros(8)}),
        Cat({U32(20), FourCC("uuid"), Zeros(20)})}) {
    BoxIterator it(data);
    BoxHeader h;
    EXPECT_FALSE(it.Next(&h));
    EXPECT_EQ(it.error().status, ParseStatus::kMalformed) << it.error().message;
  }
}

TEST(BoxIteratorTest, ChildLargerThanParentIsMalformed) {
  const Bytes data = Box("moof", {U32(100), FourCC("traf"), Zeros(4)});
  BoxIterator top(data);
  BoxHeader moof;
  ASSERT_TRUE(top.Next(&moof));
  BoxIterator children(data, moof, 1);
  BoxHeader h;
  EXPECT_FALSE(children.Next(&h));
  EXPECT_EQ(children.error().status, ParseStatus::kMalformed);
  EXPECT_NE(children.error().message.find("larger than"), std::string::npos);
}

TEST(BoxIteratorTest, TrailingBytesInParentAreMalformed) {
  const Bytes data = Box("moof", {Box("mfhd", {Zeros(8)}), Zeros(3)});
  BoxIterator top(data);
  BoxHeader moof;
  ASSERT_TRUE(top.Next(&moof));
  BoxIterator children(data, moof, 1);
  BoxHeader h;
  EXPECT_TRUE(children.Next(&h));
  EXPECT_FALSE(children.Next(&h));
  EXPECT_EQ(children.error().status, ParseStatus::kMalformed);
}

TEST(BoxIteratorTest, DepthLimit) {
  const Bytes data = Box("moof", {});
  BoxIterator top(data);
  BoxHeader moof;
  ASSERT_TRUE(top.Next(&moof));
  BoxIterator ok(data, moof, kMaxBoxDepth);
  EXPECT_TRUE(IsOk(ok.error()));
  BoxIterator too_deep(data, moof, kMaxBoxDepth + 1);
  BoxHeader h;
  EXPECT_FALSE(too_deep.Next(&h));
  EXPECT_EQ(too_deep.error().status, ParseStatus::kMalformed);
}

TEST(BoxIteratorTest, HugeLargesizeAtTopLevelIsNeedMoreData) {
  const Bytes data = Cat({U32(1), FourCC("mdat"), U64(UINT64_MAX), Zeros(8)});
  BoxIterator it(data);
  BoxHeader h;
  ASSERT_TRUE(it.Next(&h));
  EXPECT_TRUE(h.truncated);
  EXPECT_FALSE(it.Next(&h));
  EXPECT_EQ(it.error().status, ParseStatus::kNeedMoreData);
}

TEST(FourCCTest, RoundTripsAndMasksUnprintable) {
  EXPECT_EQ(FourCCToString(MakeFourCC("moof")), "moof");
  EXPECT_EQ(FourCCToString(0x00616263), "?abc");
}

}  // namespace
}  // namespace liveorigin::media
