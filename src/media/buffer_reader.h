// A bounds-checked big-endian reader over a byte span. Private to lo_media.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace liveorigin::media {

// Reads big-endian integers from a span it does not own. Every read checks the
// bytes left first; a failed read returns false and does not advance.
// Not thread-safe; the span must outlive the reader.
class BufferReader {
 public:
  explicit BufferReader(std::span<const uint8_t> data) : data_(data) {}

  size_t size() const { return data_.size(); }
  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool HasBytes(uint64_t count) const { return count <= remaining(); }

  bool Read1(uint8_t* v) { return ReadUnsigned(1, v); }
  bool Read2(uint16_t* v) { return ReadUnsigned(2, v); }
  bool Read4(uint32_t* v) { return ReadUnsigned(4, v); }
  bool Read8(uint64_t* v) { return ReadUnsigned(8, v); }
  bool Read4s(int32_t* v) {
    uint32_t u = 0;
    if (!Read4(&u)) return false;
    *v = static_cast<int32_t>(u);
    return true;
  }
  // Reads 4 bytes when `wide` is false, 8 when true (version 0 / 1 fields).
  bool Read4Or8(bool wide, uint64_t* v) {
    if (wide) return Read8(v);
    uint32_t u = 0;
    if (!Read4(&u)) return false;
    *v = u;
    return true;
  }
  // Reads the version byte and the 24-bit flags of a FullBox.
  bool ReadFullBoxHeader(uint8_t* version, uint32_t* flags) {
    uint32_t word = 0;
    if (!Read4(&word)) return false;
    *version = static_cast<uint8_t>(word >> 24);
    *flags = word & 0x00FFFFFFu;
    return true;
  }
  bool Skip(uint64_t count) {
    if (!HasBytes(count)) return false;
    pos_ += static_cast<size_t>(count);
    return true;
  }

 private:
  template <typename T>
  bool ReadUnsigned(size_t width, T* v) {
    if (!HasBytes(width)) return false;
    T value = 0;
    for (size_t i = 0; i < width; ++i) {
      value = static_cast<T>((value << 8) | data_[pos_ + i]);
    }
    pos_ += width;
    *v = value;
    return true;
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace liveorigin::media
