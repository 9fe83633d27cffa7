// Streaming gzip decoding with a decoded-size limit: members fed in any
// split, several members, and every way a stream can be bad (a bomb, a
// member cut short, damaged data, trailing garbage).
#include "liveorigin/core/gzip_decoder.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

namespace liveorigin::core {
namespace {

std::string Gzip(const std::string& data, int level = Z_DEFAULT_COMPRESSION) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Feeds `in` in pieces of `step` bytes; returns the final state.
GzipDecoder::State Decode(GzipDecoder& d, const std::string& in, size_t step, std::string* out) {
  for (size_t off = 0; off < in.size(); off += step) {
    if (d.Write(std::string_view(in).substr(off, step), out) != GzipDecoder::State::kOk) {
      return d.state();
    }
  }
  return d.Finish();
}

TEST(GzipDecoderTest, DecodesWhateverTheChunking) {
  const std::string data = Random(300000, 1) + std::string(200000, 'a');
  const std::string gz = Gzip(data);
  for (size_t step : {size_t{1}, size_t{7}, size_t{4096}, size_t{65536}, gz.size()}) {
    GzipDecoder d(1 << 20);
    std::string out;
    ASSERT_EQ(Decode(d, gz, step, &out), GzipDecoder::State::kOk) << step << ": " << d.error();
    EXPECT_EQ(out, data) << step;
    EXPECT_EQ(d.decoded_bytes(), data.size());
  }
}

TEST(GzipDecoderTest, DecodesConcatenatedMembers) {
  const std::string gz = Gzip("first part, ") + Gzip("second part");
  GzipDecoder d(1 << 20);
  std::string out;
  ASSERT_EQ(Decode(d, gz, 5, &out), GzipDecoder::State::kOk) << d.error();
  EXPECT_EQ(out, "first part, second part");
}

TEST(GzipDecoderTest, ABombStopsAtTheLimitAfterReadingLittle) {
  // 64 MiB of zeros compress to about 64 KiB.
  const std::string gz = Gzip(std::string(64 << 20, '\0'), Z_BEST_COMPRESSION);
  ASSERT_LT(gz.size(), 128u << 10);
  GzipDecoder d(1 << 20);
  std::string out;
  size_t fed = 0;
  GzipDecoder::State st = GzipDecoder::State::kOk;
  for (size_t off = 0; off < gz.size() && st == GzipDecoder::State::kOk; off += 1024) {
    st = d.Write(std::string_view(gz).substr(off, 1024), &out);
    fed = off + 1024;
  }
  EXPECT_EQ(st, GzipDecoder::State::kTooLarge);
  EXPECT_LE(out.size(), (1u << 20) + 1) << "never more than one byte over the limit";
  EXPECT_LT(fed, gz.size() / 4) << "stopped early, not after reading the whole bomb";
  EXPECT_EQ(d.Write("more", &out), GzipDecoder::State::kTooLarge) << "the state stays";
  EXPECT_EQ(d.Finish(), GzipDecoder::State::kTooLarge);
}

TEST(GzipDecoderTest, ExactlyTheLimitIsAccepted) {
  const std::string data(1000, 'x');
  GzipDecoder d(1000);
  std::string out;
  EXPECT_EQ(Decode(d, Gzip(data), 100, &out), GzipDecoder::State::kOk) << d.error();
  GzipDecoder over(999);
  std::string out2;
  EXPECT_EQ(Decode(over, Gzip(data), 100, &out2), GzipDecoder::State::kTooLarge);
}

TEST(GzipDecoderTest, TruncatedMemberIsCorrupt) {
  const std::string gz = Gzip(Random(10000, 2));
  for (size_t cut : {size_t{1}, size_t{10}, gz.size() / 2, gz.size() - 8, gz.size() - 1}) {
    GzipDecoder d(1 << 20);
    std::string out;
    EXPECT_EQ(Decode(d, gz.substr(0, cut), 333, &out), GzipDecoder::State::kCorrupt) << cut;
    EXPECT_NE(d.error().find("truncated"), std::string::npos) << cut << ": " << d.error();
  }
}

TEST(GzipDecoderTest, SecondMemberCutShortIsCorrupt) {
  const std::string second = Gzip("second");
  GzipDecoder d(1 << 20);
  std::string out;
  EXPECT_EQ(Decode(d, Gzip("first") + second.substr(0, 12), 4, &out), GzipDecoder::State::kCorrupt);
}

TEST(GzipDecoderTest, DamagedStreamsAreCorrupt) {
  const std::string data = Random(5000, 3);
  const std::string gz = Gzip(data);
  {
    GzipDecoder d(1 << 20);
    std::string out;
    EXPECT_EQ(Decode(d, "this is not gzip at all", 4, &out), GzipDecoder::State::kCorrupt);
  }
  {  // CRC32 in the trailer
    std::string bad = gz;
    bad[bad.size() - 6] ^= 0x40;
    GzipDecoder d(1 << 20);
    std::string out;
    EXPECT_EQ(Decode(d, bad, 512, &out), GzipDecoder::State::kCorrupt);
  }
  {  // ISIZE in the trailer
    std::string bad = gz;
    bad[bad.size() - 2] ^= 0x01;
    GzipDecoder d(1 << 20);
    std::string out;
    EXPECT_EQ(Decode(d, bad, 512, &out), GzipDecoder::State::kCorrupt);
  }
  {  // compression method in the header
    std::string bad = gz;
    bad[2] = 7;
    GzipDecoder d(1 << 20);
    std::string out;
    EXPECT_EQ(Decode(d, bad, 512, &out), GzipDecoder::State::kCorrupt);
  }
  {  // garbage after a complete member
    GzipDecoder d(1 << 20);
    std::string out;
    EXPECT_EQ(Decode(d, gz + "garbage!", 512, &out), GzipDecoder::State::kCorrupt);
  }
}

TEST(GzipDecoderTest, NoInputIsNotAStream) {
  GzipDecoder d(100);
  EXPECT_EQ(d.Finish(), GzipDecoder::State::kCorrupt);
}

}  // namespace
}  // namespace liveorigin::core
