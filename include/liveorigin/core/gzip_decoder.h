// GzipDecoder: streaming decoding of a `Content-Encoding: gzip` request body
// (RFC 9110 §8.4.1.3, RFC 1952) with a limit on the decoded size.
//
// Bytes are decoded as they arrive, so a gzip bomb is stopped once its output
// passes the limit, after reading only as much input as produced it. A body
// may hold several gzip members back to back (RFC 1952 §2.2); anything after
// a member that is not another member is corrupt. Uses zlib; memory per
// decoder is zlib's 32 KiB window plus its state. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace liveorigin::core {

class GzipDecoder {
 public:
  enum class State {
    kOk,        // everything so far decoded within the limit
    kTooLarge,  // the decoded output passed `max_output`
    kCorrupt,   // not gzip, bad header, bad data, CRC or length mismatch, truncated
  };

  explicit GzipDecoder(uint64_t max_output);
  ~GzipDecoder();
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;

  // Decodes `in` and appends the output to `*out`. Once the state is not kOk,
  // further input is ignored and the state stays.
  State Write(std::string_view in, std::string* out);
  // After the last Write: kCorrupt unless the input ended exactly at the end
  // of a complete member (a stream cut short is corrupt). Idempotent.
  State Finish();

  State state() const { return state_; }
  uint64_t decoded_bytes() const { return decoded_; }
  // Why the state is not kOk ("" when it is).
  const std::string& error() const { return error_; }

 private:
  struct Stream;
  void Fail(State state, std::string message);

  std::unique_ptr<Stream> stream_;
  const uint64_t max_output_;
  uint64_t decoded_ = 0;
  bool in_member_ = false;   // input of an unfinished member has been consumed
  bool any_member_ = false;  // at least one member completed
  State state_ = State::kOk;
  std::string error_;
};

}  // namespace liveorigin::core
