#include "liveorigin/core/gzip_decoder.h"

#include <zlib.h>

#include <algorithm>

namespace liveorigin::core {
namespace {

constexpr size_t kOutputStep = size_t{64} * 1024;
constexpr int kGzipOnly = 16 + MAX_WBITS;  // gzip wrapper, 32 KiB window

}  // namespace

struct GzipDecoder::Stream {
  z_stream z{};
  bool initialized = false;
  ~Stream() {
    if (initialized) inflateEnd(&z);
  }
};

GzipDecoder::GzipDecoder(uint64_t max_output)
    : stream_(std::make_unique<Stream>()), max_output_(max_output) {
  if (inflateInit2(&stream_->z, kGzipOnly) != Z_OK) {
    Fail(State::kCorrupt, "cannot initialise the gzip decoder");
    return;
  }
  stream_->initialized = true;
}

GzipDecoder::~GzipDecoder() = default;

void GzipDecoder::Fail(State state, std::string message) {
  if (state_ != State::kOk) return;
  state_ = state;
  error_ = std::move(message);
}

GzipDecoder::State GzipDecoder::Write(std::string_view in, std::string* out) {
  z_stream& z = stream_->z;
  while (state_ == State::kOk && !in.empty()) {
    if (!in_member_ && any_member_) {
      // A new member after a complete one.
      if (inflateReset(&z) != Z_OK) {
        Fail(State::kCorrupt, "cannot reset the gzip decoder");
        break;
      }
    }
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
    const uInt offered = z.avail_in;
    bool ended = false;
    while (state_ == State::kOk) {
      // Room for at most one byte beyond the limit: enough to see it passed.
      const uint64_t room = max_output_ - std::min(decoded_, max_output_) + 1;
      const size_t step = static_cast<size_t>(std::min<uint64_t>(kOutputStep, room));
      const size_t old = out->size();
      out->resize(old + step);
      z.next_out = reinterpret_cast<Bytef*>(out->data() + old);
      z.avail_out = static_cast<uInt>(step);
      const int rc = inflate(&z, Z_NO_FLUSH);
      const size_t produced = step - z.avail_out;
      out->resize(old + produced);
      decoded_ += produced;
      if (decoded_ > max_output_) {
        Fail(State::kTooLarge,
             "the decoded body exceeds " + std::to_string(max_output_) + " bytes");
        break;
      }
      if (rc == Z_STREAM_END) {
        ended = true;
        break;
      }
      if (rc == Z_OK && z.avail_out == 0) continue;  // more output may be pending
      if (rc == Z_OK && z.avail_in > 0) continue;
      if (rc == Z_OK || rc == Z_BUF_ERROR) break;  // every input byte used: wait for more
      Fail(State::kCorrupt, std::string("invalid gzip data: ") +
                                (z.msg ? z.msg : "inflate error " + std::to_string(rc)));
    }
    const size_t consumed = offered - z.avail_in;
    in.remove_prefix(consumed);
    if (consumed > 0) in_member_ = true;
    if (ended) {
      in_member_ = false;
      any_member_ = true;
    } else if (consumed == 0 && state_ == State::kOk) {
      break;  // no progress possible: wait for more input
    }
  }
  return state_;
}

GzipDecoder::State GzipDecoder::Finish() {
  if (state_ == State::kOk && (in_member_ || !any_member_)) {
    Fail(State::kCorrupt, any_member_ || in_member_
                              ? "the gzip stream ends before its member is complete (truncated)"
                              : "the gzip stream is empty");
  }
  return state_;
}

}  // namespace liveorigin::core
