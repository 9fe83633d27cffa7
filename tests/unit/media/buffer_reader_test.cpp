#include "buffer_reader.h"

#include <gtest/gtest.h>

#include <vector>

namespace liveorigin::media {
namespace {

TEST(BufferReaderTest, ReadsBigEndian) {
  const std::vector<uint8_t> data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                     0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F};
  BufferReader r(data);
  uint8_t u8 = 0;
  uint16_t u16 = 0;
  uint32_t u32 = 0;
  uint64_t u64 = 0;
  ASSERT_TRUE(r.Read1(&u8) && r.Read2(&u16) && r.Read4(&u32) && r.Read8(&u64));
  EXPECT_EQ(u8, 0x01);
  EXPECT_EQ(u16, 0x0203);
  EXPECT_EQ(u32, 0x04050607u);
  EXPECT_EQ(u64, 0x08090A0B0C0D0E0Full);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(BufferReaderTest, FailedReadDoesNotAdvance) {
  const std::vector<uint8_t> data = {0xAA, 0xBB, 0xCC};
  BufferReader r(data);
  uint32_t u32 = 7;
  EXPECT_FALSE(r.Read4(&u32));
  EXPECT_EQ(u32, 7u);
  EXPECT_EQ(r.pos(), 0u);
  EXPECT_FALSE(r.Skip(4));
  EXPECT_TRUE(r.Skip(3));
  uint8_t u8 = 0;
  EXPECT_FALSE(r.Read1(&u8));
}

TEST(BufferReaderTest, HugeSkipIsRejected) {
  const std::vector<uint8_t> data(16);
  BufferReader r(data);
  EXPECT_FALSE(r.Skip(UINT64_MAX));
  EXPECT_FALSE(r.HasBytes(uint64_t{1} << 40));
  EXPECT_EQ(r.pos(), 0u);
}

TEST(BufferReaderTest, SignedAndVersionedFields) {
  const std::vector<uint8_t> data = {0xFF, 0xFF, 0xFF, 0xFE, 0x01, 0x00, 0x00, 0x05, 0, 0,
                                     0,    9,    0,    0,    0,    0,    0,    0,    0, 10};
  BufferReader r(data);
  int32_t s = 0;
  uint8_t version = 0;
  uint32_t flags = 0;
  uint64_t narrow = 0, wide = 0;
  ASSERT_TRUE(r.Read4s(&s) && r.ReadFullBoxHeader(&version, &flags) && r.Read4Or8(false, &narrow) &&
              r.Read4Or8(true, &wide));
  EXPECT_EQ(s, -2);
  EXPECT_EQ(version, 1);
  EXPECT_EQ(flags, 5u);
  EXPECT_EQ(narrow, 9u);
  EXPECT_EQ(wide, 10u);
}

}  // namespace
}  // namespace liveorigin::media
