#include "liveorigin/core/byte_range.h"

#include <algorithm>
#include <charconv>

namespace liveorigin::core {
namespace {

bool ParseNumber(std::string_view s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

RangeParse ParseRange(std::string_view header, uint64_t size, ByteRange* out) {
  if (header.substr(0, 6) != "bytes=") return RangeParse::kNone;
  header.remove_prefix(6);
  if (header.find(',') != std::string_view::npos) return RangeParse::kNone;
  const size_t dash = header.find('-');
  if (dash == std::string_view::npos) return RangeParse::kNone;
  const std::string_view a = header.substr(0, dash), b = header.substr(dash + 1);
  uint64_t x = 0, y = 0;
  if (a.empty()) {  // suffix: the last y bytes
    if (!ParseNumber(b, &y)) return RangeParse::kNone;
    if (y == 0 || size == 0) return RangeParse::kUnsatisfiable;
    out->first = y >= size ? 0 : size - y;
    out->last = size - 1;
    return RangeParse::kOk;
  }
  if (!ParseNumber(a, &x)) return RangeParse::kNone;
  if (b.empty()) {
    y = size ? size - 1 : 0;
  } else if (!ParseNumber(b, &y) || y < x) {
    return RangeParse::kNone;
  }
  if (x >= size) return RangeParse::kUnsatisfiable;
  out->first = x;
  out->last = std::min(y, size - 1);
  return RangeParse::kOk;
}

}  // namespace liveorigin::core
