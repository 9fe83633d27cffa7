#include "mdat_coverage.h"

#include <algorithm>

#include "boxes.h"

namespace liveorigin::media {

void MdatCoverage::Add(uint64_t begin, uint64_t end) {
  if (begin == end) return;
  begins_.push_back(begin);
  ends_.push_back(end);
  bytes_before_.push_back(total_);
  total_ += end - begin;
}

uint64_t MdatCoverage::PresentBelow(uint64_t x) const {
  const auto it = std::upper_bound(begins_.begin(), begins_.end(), x);
  if (it == begins_.begin()) return 0;
  const size_t i = static_cast<size_t>(it - begins_.begin()) - 1;
  return bytes_before_[i] + (std::min(x, ends_[i]) - begins_[i]);
}

uint64_t MdatCoverage::PresentIn(uint64_t begin, uint64_t length) const {
  return PresentBelow(SaturatingAdd(begin, length)) - PresentBelow(begin);
}

}  // namespace liveorigin::media
