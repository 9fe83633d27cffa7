#include "box_reader.h"

#include <utility>

#include "buffer_reader.h"

namespace liveorigin::media {

std::string FourCCToString(FourCC code) {
  std::string s(4, '?');
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((code >> (24 - 8 * i)) & 0xFF);
    if (c >= 0x20 && c < 0x7F) s[i] = c;
  }
  return s;
}

ParseError Ok() { return {}; }
ParseError Malformed(std::string message) { return {ParseStatus::kMalformed, std::move(message)}; }
ParseError NeedMoreData(std::string message) {
  return {ParseStatus::kNeedMoreData, std::move(message)};
}

BoxIterator::BoxIterator(std::span<const uint8_t> data)
    : data_(data), pos_(0), end_(data.size()), top_level_(true) {}

BoxIterator::BoxIterator(std::span<const uint8_t> data, const BoxHeader& parent, int depth)
    : data_(data),
      pos_(parent.payload_offset()),
      end_(parent.end()),
      top_level_(false),
      parent_type_(parent.type),
      depth_(depth) {
  if (depth > kMaxBoxDepth) {
    error_ = Malformed("'" + FourCCToString(parent.type) + "': boxes nested deeper than " +
                       std::to_string(kMaxBoxDepth));
    pos_ = end_;
  } else if (parent.truncated || end_ > data.size() || pos_ > end_) {
    error_ = Malformed("'" + FourCCToString(parent.type) + "': incomplete container");
    pos_ = end_;
  }
}

bool BoxIterator::Next(BoxHeader* header) {
  if (!IsOk(error_) || pos_ >= end_) return false;

  // Bytes that can hold this box: the rest of the container (or of the input).
  const uint64_t room = end_ - pos_;
  BoxHeader h;
  h.offset = pos_;
  h.header_size = 8;
  // Messages are built only on failure; the happy path allocates nothing.
  auto where = [&] {
    std::string s = h.type == 0 ? "box" : "'" + FourCCToString(h.type) + "'";
    s += " at offset " + std::to_string(h.offset);
    if (!top_level_) s += " in '" + FourCCToString(parent_type_) + "'";
    return s;
  };
  auto short_header = [&](uint64_t needed) {
    const std::string msg = where() + ": " + std::to_string(room) + " bytes left, header needs " +
                            std::to_string(needed);
    error_ = top_level_ ? NeedMoreData(msg) : Malformed(msg);
    return false;
  };

  BufferReader reader(data_.subspan(static_cast<size_t>(pos_), static_cast<size_t>(room)));
  uint32_t size32 = 0;
  uint32_t type = 0;
  if (!(reader.Read4(&size32) && reader.Read4(&type))) return short_header(8);
  h.type = type;
  if (size32 == 1) {
    h.header_size = 16;
    if (!reader.Read8(&h.size)) return short_header(16);
  } else if (size32 == 0) {
    h.size = room;
  } else {
    h.size = size32;
  }
  if (h.type == MakeFourCC("uuid")) {
    h.header_size += 16;
    if (!reader.Skip(16)) return short_header(h.header_size);
  }
  if (h.size < h.header_size) {
    error_ = Malformed(where() + ": size " + std::to_string(h.size) +
                       " is smaller than its header (" + std::to_string(h.header_size) + ")");
    return false;
  }
  if (h.size > room) {
    if (!top_level_) {
      error_ = Malformed(where() + ": size " + std::to_string(h.size) + " is larger than the " +
                         std::to_string(room) + " bytes left in its parent");
      return false;
    }
    h.truncated = true;
    error_ = NeedMoreData(where() + ": box declares " + std::to_string(h.size) + " bytes, only " +
                          std::to_string(room) + " present");
    pos_ = end_;
    *header = h;
    return true;
  }
  pos_ += h.size;
  *header = h;
  return true;
}

}  // namespace liveorigin::media
