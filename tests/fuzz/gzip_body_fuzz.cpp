// libFuzzer target for ingest bodies sent with Content-Encoding: gzip
// (UploadBody over GzipDecoder).
//
// The first input byte picks a chunk size, the rest is the body as sent.
// Whatever the input: no crash, the decoded size never passes the limit, and
// the verdict and decoded bytes do not depend on how the body was split.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "liveorigin/core/upload_body.h"

namespace {

using liveorigin::core::ContentCoding;
using liveorigin::core::UploadBody;
using liveorigin::core::UploadBodyOptions;

constexpr uint64_t kLimit = 1 << 20;

#define Check(condition) CheckAt(condition, #condition, __LINE__)
void CheckAt(bool ok, const char* what, int line) {
  if (ok) return;
  std::fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
  __builtin_trap();
}

struct Outcome {
  UploadBody::Outcome outcome;
  std::string body;
};

Outcome Feed(std::string_view body, size_t step) {
  UploadBodyOptions options;
  options.max_size = kLimit;
  options.coding = ContentCoding::kGzip;
  UploadBody upload(options);
  for (size_t off = 0; off < body.size(); off += step) {
    if (!upload.Append(body.substr(off, step))) break;
    Check(upload.decoded_size() <= kLimit);
  }
  const auto verdict = upload.Finish();
  Check(verdict.outcome == UploadBody::Outcome::kOk || !verdict.message.empty());
  Outcome out{verdict.outcome, {}};
  if (verdict.outcome == UploadBody::Outcome::kOk) out.body = upload.TakeBody();
  Check(out.body.size() <= kLimit);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 64;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome chunked = Feed(body, step);
  const Outcome whole = Feed(body, body.size() + 1);
  Check(chunked.outcome == whole.outcome);
  Check(chunked.body == whole.body);
  return 0;
}
