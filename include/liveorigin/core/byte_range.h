// Single byte ranges of RFC 9110 §14: "bytes=a-b", "bytes=a-", "bytes=-n".
// Pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace liveorigin::core {

struct ByteRange {
  uint64_t first = 0, last = 0;  // inclusive
  uint64_t length() const { return last - first + 1; }
};

enum class RangeParse {
  kNone,           // absent, several ranges, another unit or bad syntax: serve the whole object
  kOk,             // serve *out with 206
  kUnsatisfiable,  // 416
};

RangeParse ParseRange(std::string_view header, uint64_t size, ByteRange* out);

}  // namespace liveorigin::core
