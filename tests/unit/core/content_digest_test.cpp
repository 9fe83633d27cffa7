// RFC 9530 integrity fields: parsing Content-Digest, streaming verification,
// Want-Repr-Digest preferences and Repr-Digest values.
#include "liveorigin/core/content_digest.h"

#include <gtest/gtest.h>

#include "liveorigin/common/bytes.h"

namespace liveorigin::core {
namespace {

// RFC 9530 Appendix D examples: {"hello": "world"} (with the newline-free body
// the RFC hashes).
constexpr const char* kBody = "{\"hello\": \"world\"}";
constexpr const char* kSha256 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=";
constexpr const char* kSha512 =
    "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==";

TEST(ContentDigestTest, Sha256MatchesTheRfcExample) {
  EXPECT_EQ(Base64Encode(Sha256(kBody)), kSha256);
  EXPECT_EQ(FormatSha256Field(Sha256(kBody)), std::string("sha-256=:") + kSha256 + ":");
}

TEST(ContentDigestTest, ParsesKnownAlgorithmsAndIgnoresOthers) {
  auto d = ParseDigestField(std::string("sha-256=:") + kSha256 + ":, sha-512=:" + kSha512 +
                            ":, md5=:AAAA:, unixsum=12, x-future=?1");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].algorithm, DigestAlgorithm::kSha256);
  EXPECT_EQ((*d)[0].value.size(), 32u);
  EXPECT_EQ((*d)[1].algorithm, DigestAlgorithm::kSha512);

  auto only_unknown = ParseDigestField("crc32c=:AAAAAA==:");
  ASSERT_TRUE(only_unknown.ok());
  EXPECT_TRUE(only_unknown->empty());
}

TEST(ContentDigestTest, MalformedFieldsAreErrors) {
  EXPECT_FALSE(ParseDigestField("sha-256").ok()) << "a boolean, not a byte sequence";
  EXPECT_FALSE(ParseDigestField("sha-256=\"abc\"").ok());
  EXPECT_FALSE(ParseDigestField("sha-256=:AAAA:").ok()) << "3 bytes, not 32";
  EXPECT_FALSE(ParseDigestField("sha-256=:not base64:").ok());
  EXPECT_FALSE(ParseDigestField("sha-256=:" + std::string(kSha256)).ok()) << "unterminated";
  EXPECT_FALSE(ParseDigestField("SHA-256=:" + std::string(kSha256) + ":").ok()) << "upper case key";
  EXPECT_FALSE(ParseDigestField("sha-256=:" + std::string(kSha256) + ":,").ok());
}

TEST(ContentDigestTest, VerifierHashesAsBytesArriveAndNamesAMismatch) {
  auto ok = ParseDigestField(std::string("sha-256=:") + kSha256 + ":, sha-512=:" + kSha512 + ":");
  ASSERT_TRUE(ok.ok());
  DigestVerifier v(*ok);
  const std::string body = kBody;
  for (char c : body) v.Update(std::string_view(&c, 1));
  EXPECT_TRUE(v.Finish().ok());
  EXPECT_EQ(Base64Encode(v.sha256()), kSha256);

  auto expected = ParseDigestField(std::string("sha-256=:") + kSha256 + ":");
  DigestVerifier bad(*expected);
  bad.Update("{\"hello\": \"World\"}");
  const Status st = bad.Finish();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("sha-256"), std::string::npos) << st.message();
}

TEST(ContentDigestTest, OneWrongAlgorithmOfTwoIsAMismatch) {
  std::string wrong512(64, 'x');
  auto d = ParseDigestField(std::string("sha-256=:") + kSha256 +
                            ":, sha-512=:" + Base64Encode(wrong512) + ":");
  ASSERT_TRUE(d.ok());
  DigestVerifier v(*d);
  v.Update(kBody);
  const Status st = v.Finish();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("sha-512"), std::string::npos) << st.message();
}

TEST(ContentDigestTest, WantReprDigestNeedsSha256WithAPositivePreference) {
  EXPECT_TRUE(WantsSha256("sha-256=1"));
  EXPECT_TRUE(WantsSha256("sha-512=3, sha-256=10"));
  EXPECT_FALSE(WantsSha256("sha-256=0"));
  EXPECT_FALSE(WantsSha256("sha-256=11"));
  EXPECT_FALSE(WantsSha256("sha-512=3"));
  EXPECT_FALSE(WantsSha256("sha-256"));      // boolean, not a preference
  EXPECT_FALSE(WantsSha256("sha-256=1,,"));  // malformed: ignored
  EXPECT_FALSE(WantsSha256(""));
}

}  // namespace
}  // namespace liveorigin::core
