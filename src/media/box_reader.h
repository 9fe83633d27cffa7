// ISO-BMFF box headers: reading them with sanity checks and iterating the
// boxes of a container. Private to lo_media.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "liveorigin/media/iso_bmff.h"

namespace liveorigin::media {

using FourCC = uint32_t;

constexpr FourCC MakeFourCC(const char (&s)[5]) {
  return (static_cast<FourCC>(static_cast<uint8_t>(s[0])) << 24) |
         (static_cast<FourCC>(static_cast<uint8_t>(s[1])) << 16) |
         (static_cast<FourCC>(static_cast<uint8_t>(s[2])) << 8) |
         static_cast<FourCC>(static_cast<uint8_t>(s[3]));
}

// Printable form of a box type or brand ("moof"); non-printable bytes become '?'.
std::string FourCCToString(FourCC code);

// Containers nest at most this deep (the file itself is depth 0).
constexpr int kMaxBoxDepth = 16;

struct BoxHeader {
  uint64_t offset = 0;       // absolute offset of the box in the input
  uint64_t size = 0;         // whole box including the header (size 0 resolved)
  uint32_t header_size = 0;  // 8, 16 (largesize) or +16 for 'uuid'
  FourCC type = 0;
  bool truncated = false;  // top level only: the box extends past the input

  uint64_t end() const { return offset + size; }
  uint64_t payload_offset() const { return offset + header_size; }
  uint64_t payload_size() const { return size - header_size; }
};

ParseError Ok();
ParseError Malformed(std::string message);
ParseError NeedMoreData(std::string message);
inline bool IsOk(const ParseError& e) { return e.status == ParseStatus::kOk; }

// Iterates the boxes laid end to end in data[begin, end).
//
// At the top level (`parent` is null, `end` is the input size) a box that
// claims more bytes than the input holds is returned once with `truncated` set,
// and iteration then stops with kNeedMoreData; a header cut short is
// kNeedMoreData too. Inside a container a child larger than its parent, or
// trailing bytes too few for a header, are kMalformed. Size 0 means "to the end
// of the enclosing container", size 1 a 64-bit largesize; a size smaller than
// the header is kMalformed everywhere.
//
// REQUIRES: begin <= end <= data.size(). Not thread-safe; `data` must outlive it.
class BoxIterator {
 public:
  // Top-level boxes of the whole input.
  explicit BoxIterator(std::span<const uint8_t> data);
  // Children of `parent`, a complete box (not truncated) at nesting `depth`
  // (1 for a top-level box). Fails with kMalformed beyond kMaxBoxDepth.
  BoxIterator(std::span<const uint8_t> data, const BoxHeader& parent, int depth);

  // Reads the next header. Returns false at the end or on error (see error()).
  bool Next(BoxHeader* header);
  const ParseError& error() const { return error_; }
  int depth() const { return depth_; }

 private:
  std::span<const uint8_t> data_;
  uint64_t pos_;
  uint64_t end_;
  bool top_level_;
  FourCC parent_type_ = 0;
  int depth_ = 0;
  ParseError error_;
};

// The payload bytes of a complete box.
inline std::span<const uint8_t> Payload(std::span<const uint8_t> data, const BoxHeader& box) {
  return data.subspan(static_cast<size_t>(box.payload_offset()),
                      static_cast<size_t>(box.payload_size()));
}

// Calls `visit(child)` for each child of the complete box `parent` at nesting
// `depth`; stops at the first error, from the iterator or from `visit`.
template <typename Visit>
ParseError ForEachChild(std::span<const uint8_t> data, const BoxHeader& parent, int depth,
                        Visit&& visit) {
  BoxIterator it(data, parent, depth);
  BoxHeader child;
  while (it.Next(&child)) {
    ParseError e = visit(child);
    if (!IsOk(e)) return e;
  }
  return it.error();
}

}  // namespace liveorigin::media
