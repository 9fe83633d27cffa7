#include "liveorigin/core/first_fragment.h"

namespace liveorigin::core {
namespace {

uint64_t ReadBig(std::string_view b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

}  // namespace

FirstFragmentScan::Result FirstFragmentScan::Fail(std::string message) {
  error_ = std::move(message);
  result_ = Result::kMalformed;
  return result_;
}

FirstFragmentScan::Result FirstFragmentScan::Scan(std::string_view bytes) {
  while (result_ == Result::kNeedMore) {
    if (offset_ > bytes.size() || bytes.size() - offset_ < 8) return result_;
    const size_t at = static_cast<size_t>(offset_);
    uint64_t size = ReadBig(bytes, at, 4);
    const std::string_view type = bytes.substr(at + 4, 4);
    uint64_t header = 8;
    if (size == 1) {
      if (bytes.size() - at < 16) return result_;
      size = ReadBig(bytes, at + 8, 8);
      header = 16;
    } else if (size == 0) {
      return Fail("top-level box '" + std::string(type) + "' extends to the end of the segment");
    }
    if (size < header) {
      return Fail("top-level box '" + std::string(type) + "' is smaller than its header");
    }
    if (type == "moof") {
      if (bytes.size() - at < size) return result_;
      moof_end_ = offset_ + size;
      result_ = Result::kFound;
      return result_;
    }
    if (type == "mdat") return Fail("mdat before the first moof");
    if (size > (uint64_t{1} << 40))
      return Fail("top-level box '" + std::string(type) + "' is implausibly large");
    offset_ += size;
  }
  return result_;
}

}  // namespace liveorigin::core
