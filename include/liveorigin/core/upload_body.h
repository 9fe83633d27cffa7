// UploadBody: one PUT/POST body on its way in, as the ingest rules of SPEC
// §11 want it: the bytes as sent are checked against Content-Digest while they
// arrive, a gzip content coding is decoded while it arrives, and
// max_object_size applies to the decoded size. Pure (no clock, no I/O);
// not thread-safe (one per upload).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "liveorigin/common/status.h"
#include "liveorigin/core/content_digest.h"
#include "liveorigin/core/gzip_decoder.h"

namespace liveorigin::core {

enum class ContentCoding { kIdentity, kGzip };

// Content-Encoding of a request: absent or "identity" → identity; "gzip" or
// "x-gzip" (any case, identity entries around it allowed) → gzip; anything
// else (deflate, br, zstd, gzip twice...) → InvalidArgument naming it.
Result<ContentCoding> ParseContentEncoding(std::optional<std::string_view> header);

struct UploadBodyOptions {
  uint64_t max_size = 64ull << 20;  // of the decoded body
  ContentCoding coding = ContentCoding::kIdentity;
  std::vector<ExpectedDigest> digests;  // Content-Digest: over the bytes as sent
  uint64_t reserve = 0;                 // declared Content-Length, to reserve (capped at max_size)
};

class UploadBody {
 public:
  enum class Outcome { kOk, kTooLarge, kBadEncoding, kDigestMismatch };
  struct Verdict {
    Outcome outcome = Outcome::kOk;
    std::string message;  // one sentence when not kOk
  };

  explicit UploadBody(UploadBodyOptions options);

  // Takes the next bytes as sent. Returns false once the upload can no longer
  // succeed (too large, corrupt coding): the caller may stop reading.
  bool Append(std::string_view bytes);
  // After the last Append. Call once.
  Verdict Finish();

  // No byte was sent at all: the connection probe of DASH-IF ingest sources.
  bool empty_as_sent() const { return received_ == 0; }
  uint64_t received() const { return received_; }
  uint64_t decoded_size() const { return body_.size(); }
  // The decoded bytes so far (valid until the next Append or TakeBody).
  std::string_view decoded() const { return body_; }
  // REQUIRES: Finish() returned kOk.
  std::string TakeBody() { return std::move(body_); }
  // Raw SHA-256 of the decoded body when it was computed anyway (an identity
  // body with a sha-256 Content-Digest), after Finish; else empty.
  std::string known_sha256() const;

 private:
  bool Fail(Outcome outcome, std::string message);

  const UploadBodyOptions options_;
  std::unique_ptr<DigestVerifier> verifier_;
  std::unique_ptr<GzipDecoder> gzip_;
  std::string body_;
  uint64_t received_ = 0;
  Verdict verdict_;
};

}  // namespace liveorigin::core
