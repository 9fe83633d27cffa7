// UploadBody: the ingest body rules of SPEC §11 — Content-Digest over the
// bytes as sent, gzip decoded as it arrives, the size limit on the decoded
// size, and the empty probe.
#include "liveorigin/core/upload_body.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "liveorigin/common/bytes.h"

namespace liveorigin::core {
namespace {

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

std::vector<ExpectedDigest> Sha256Of(const std::string& data) {
  return {ExpectedDigest{DigestAlgorithm::kSha256, Sha256(data)}};
}

UploadBody::Verdict Feed(UploadBody& body, const std::string& data, size_t step = 1000) {
  for (size_t off = 0; off < data.size(); off += step) {
    if (!body.Append(std::string_view(data).substr(off, step))) break;
  }
  return body.Finish();
}

TEST(ContentEncodingTest, IdentityGzipAndTheRest) {
  EXPECT_EQ(*ParseContentEncoding(std::nullopt), ContentCoding::kIdentity);
  EXPECT_EQ(*ParseContentEncoding("identity"), ContentCoding::kIdentity);
  EXPECT_EQ(*ParseContentEncoding("gzip"), ContentCoding::kGzip);
  EXPECT_EQ(*ParseContentEncoding(" GZip "), ContentCoding::kGzip);
  EXPECT_EQ(*ParseContentEncoding("x-gzip"), ContentCoding::kGzip);
  EXPECT_EQ(*ParseContentEncoding("identity, gzip"), ContentCoding::kGzip);
  EXPECT_FALSE(ParseContentEncoding("br").ok());
  EXPECT_FALSE(ParseContentEncoding("deflate").ok());
  EXPECT_FALSE(ParseContentEncoding("gzip, gzip").ok());
  EXPECT_FALSE(ParseContentEncoding("gzip, br").ok());
}

TEST(UploadBodyTest, IdentityBodyWithinTheLimit) {
  UploadBody body(UploadBodyOptions{100, ContentCoding::kIdentity, {}, 50});
  EXPECT_EQ(Feed(body, std::string(100, 'x'), 7).outcome, UploadBody::Outcome::kOk);
  EXPECT_EQ(body.TakeBody(), std::string(100, 'x'));
  EXPECT_TRUE(body.known_sha256().empty()) << "nothing hashed when nobody asked";
}

TEST(UploadBodyTest, IdentityBodyOverTheLimit) {
  UploadBody body(UploadBodyOptions{100, ContentCoding::kIdentity, {}, 0});
  EXPECT_EQ(Feed(body, std::string(101, 'x')).outcome, UploadBody::Outcome::kTooLarge);
}

TEST(UploadBodyTest, NoBytesIsTheProbe) {
  UploadBody body(UploadBodyOptions{100, ContentCoding::kGzip, {}, 0});
  EXPECT_EQ(body.Finish().outcome, UploadBody::Outcome::kOk);
  EXPECT_TRUE(body.empty_as_sent());
}

TEST(UploadBodyTest, GzipIsDecodedAndTheLimitAppliesToTheDecodedSize) {
  const std::string data(5000, 'a');
  const std::string gz = Gzip(data);
  ASSERT_LT(gz.size(), 200u);
  UploadBody fits(UploadBodyOptions{5000, ContentCoding::kGzip, {}, 0});
  ASSERT_EQ(Feed(fits, gz, 10).outcome, UploadBody::Outcome::kOk);
  EXPECT_EQ(fits.TakeBody(), data);

  UploadBody bomb(UploadBodyOptions{4999, ContentCoding::kGzip, {}, 0});
  const auto v = Feed(bomb, gz, 10);
  EXPECT_EQ(v.outcome, UploadBody::Outcome::kTooLarge);
  EXPECT_NE(v.message.find("decoded"), std::string::npos) << v.message;
}

TEST(UploadBodyTest, CorruptAndTruncatedGzipAreBadEncoding) {
  const std::string gz = Gzip("some media bytes");
  UploadBody truncated(UploadBodyOptions{1000, ContentCoding::kGzip, {}, 0});
  EXPECT_EQ(Feed(truncated, gz.substr(0, gz.size() - 3)).outcome,
            UploadBody::Outcome::kBadEncoding);
  UploadBody corrupt(UploadBodyOptions{1000, ContentCoding::kGzip, {}, 0});
  EXPECT_EQ(Feed(corrupt, "plainly not gzip").outcome, UploadBody::Outcome::kBadEncoding);
}

TEST(UploadBodyTest, DigestIsCheckedOverTheBytesAsSent) {
  const std::string data = "segment bytes";
  UploadBody ok(UploadBodyOptions{1000, ContentCoding::kIdentity, Sha256Of(data), 0});
  ASSERT_EQ(Feed(ok, data, 3).outcome, UploadBody::Outcome::kOk);
  EXPECT_EQ(ok.known_sha256(), Sha256(data)) << "kept: Repr-Digest needs no second hash";

  UploadBody mismatch(UploadBodyOptions{1000, ContentCoding::kIdentity, Sha256Of(data), 0});
  EXPECT_EQ(Feed(mismatch, "segment bytez").outcome, UploadBody::Outcome::kDigestMismatch);

  // Gzip: Content-Digest covers the encoded bytes (RFC 9530 §2), and the
  // decoded body's hash is not known.
  const std::string gz = Gzip(data);
  UploadBody gzip_ok(UploadBodyOptions{1000, ContentCoding::kGzip, Sha256Of(gz), 0});
  ASSERT_EQ(Feed(gzip_ok, gz, 5).outcome, UploadBody::Outcome::kOk);
  EXPECT_EQ(gzip_ok.TakeBody(), data);
  EXPECT_TRUE(gzip_ok.known_sha256().empty());
  UploadBody gzip_of_decoded(UploadBodyOptions{1000, ContentCoding::kGzip, Sha256Of(data), 0});
  EXPECT_EQ(Feed(gzip_of_decoded, gz, 5).outcome, UploadBody::Outcome::kDigestMismatch);
}

}  // namespace
}  // namespace liveorigin::core
