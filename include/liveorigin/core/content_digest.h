// Integrity fields of RFC 9530: Content-Digest / Repr-Digest checking on
// ingest, Want-Repr-Digest preferences and Repr-Digest values on delivery.
//
// Only the algorithms RFC 9530 registers as active are understood: sha-256
// and sha-512. Others (the deprecated md5, sha, crc32c..., and anything
// unknown) are ignored, as §2 of the RFC asks. Hashing uses OpenSSL.
// Values are plain; DigestVerifier is not thread-safe (one per upload).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "liveorigin/common/status.h"

namespace liveorigin::core {

enum class DigestAlgorithm { kSha256, kSha512 };

std::string_view DigestAlgorithmName(DigestAlgorithm algorithm);  // "sha-256", "sha-512"

struct ExpectedDigest {
  DigestAlgorithm algorithm = DigestAlgorithm::kSha256;
  std::string value;  // raw digest bytes (32 or 64)
};

// Parses a Content-Digest or Repr-Digest field value (an RFC 8941 Dictionary
// of algorithm → Byte Sequence). InvalidArgument when the value is not a
// Dictionary, or when a known algorithm's value is not a Byte Sequence of the
// algorithm's length. Unknown algorithms are skipped, so the result may be
// empty for a valid field.
Result<std::vector<ExpectedDigest>> ParseDigestField(std::string_view value);

// Want-Repr-Digest / Want-Content-Digest: true when sha-256 is asked for with
// a preference from 1 to 10. A malformed field is ignored (false), as RFC 8941
// asks of fields that fail to parse.
bool WantsSha256(std::string_view want);

// Raw SHA-256 of `data`.
std::string Sha256(std::string_view data);
// "sha-256=:<base64>:" for a raw SHA-256 digest.
std::string FormatSha256Field(std::string_view raw_sha256);

// Hashes an upload as its bytes arrive and compares the result with every
// expected digest at the end.
class DigestVerifier {
 public:
  // REQUIRES: !expected.empty()
  explicit DigestVerifier(std::vector<ExpectedDigest> expected);
  ~DigestVerifier();
  DigestVerifier(const DigestVerifier&) = delete;
  DigestVerifier& operator=(const DigestVerifier&) = delete;

  void Update(std::string_view bytes);
  // After the last Update: OK, or InvalidArgument naming the algorithm whose
  // digest differs. Call once.
  Status Finish();
  // The raw SHA-256 of everything passed to Update, when sha-256 was among the
  // expected digests and Finish() has run; else empty.
  const std::string& sha256() const { return sha256_; }

 private:
  struct Hasher;
  std::vector<std::unique_ptr<Hasher>> hashers_;
  std::string sha256_;
};

}  // namespace liveorigin::core
