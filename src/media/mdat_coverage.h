// Which byte ranges of a media segment lie inside an mdat payload present in
// the input. Private to lo_media.
#pragma once

#include <cstdint>
#include <vector>

namespace liveorigin::media {

// Collects the present mdat payload ranges of one segment and answers "how many
// bytes of [begin, begin + length) are inside them" in O(log n).
// Not thread-safe.
class MdatCoverage {
 public:
  // Adds the payload bytes [begin, end) of an mdat, as far as present.
  // REQUIRES: begin <= end, and begin >= the end of every range added before
  // (top-level boxes arrive in file order).
  void Add(uint64_t begin, uint64_t end);

  // Bytes of [begin, begin + length) (clamped at UINT64_MAX) inside added ranges.
  uint64_t PresentIn(uint64_t begin, uint64_t length) const;

 private:
  // Bytes of all ranges below offset `x`.
  uint64_t PresentBelow(uint64_t x) const;

  std::vector<uint64_t> begins_;
  std::vector<uint64_t> ends_;
  std::vector<uint64_t> bytes_before_;  // payload bytes of ranges [0, i)
  uint64_t total_ = 0;
};

}  // namespace liveorigin::media
