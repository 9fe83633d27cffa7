// Builds ISO-BMFF boxes byte by byte for tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

namespace liveorigin::media::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline Bytes U8(uint8_t v) { return {v}; }
inline Bytes U32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}
inline Bytes U64(uint64_t v) {
  return Cat({U32(static_cast<uint32_t>(v >> 32)), U32(static_cast<uint32_t>(v))});
}
inline Bytes FourCC(const char* s) { return Bytes(s, s + 4); }
inline Bytes Zeros(size_t n) { return Bytes(n, 0); }

// A box with a 32-bit size.
inline Bytes Box(const char* type, std::initializer_list<Bytes> parts) {
  Bytes payload = Cat(parts);
  return Cat({U32(static_cast<uint32_t>(payload.size() + 8)), FourCC(type), payload});
}

// A box with size 1 and a 64-bit largesize.
inline Bytes LargeBox(const char* type, std::initializer_list<Bytes> parts) {
  Bytes payload = Cat(parts);
  return Cat({U32(1), FourCC(type), U64(payload.size() + 16), payload});
}

inline Bytes FullBox(const char* type, uint8_t version, uint32_t flags,
                     std::initializer_list<Bytes> parts) {
  Bytes payload = Cat(parts);
  return Box(type, {U32((uint32_t{version} << 24) | (flags & 0xFFFFFF)), payload});
}

inline uint32_t GetU32(const Bytes& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         uint32_t{b[at + 3]};
}
inline void PutU32(Bytes* b, size_t at, uint32_t v) {
  Bytes x = U32(v);
  std::memcpy(b->data() + at, x.data(), 4);
}

// Offset of the first box of `type` found by walking containers that this
// helper knows (moov, trak, mdia, mvex, moof, traf). Returns SIZE_MAX if absent.
inline size_t FindBox(const Bytes& b, const char* type, size_t begin = 0, size_t end = SIZE_MAX) {
  if (end > b.size()) end = b.size();
  static const char* const kContainers[] = {"moov", "trak", "mdia", "mvex", "moof", "traf"};
  size_t pos = begin;
  while (pos + 8 <= end) {
    const uint32_t size = GetU32(b, pos);
    if (size < 8 || pos + size > end) return SIZE_MAX;
    if (std::memcmp(&b[pos + 4], type, 4) == 0) return pos;
    for (const char* c : kContainers) {
      if (std::memcmp(&b[pos + 4], c, 4) == 0) {
        const size_t found = FindBox(b, type, pos + 8, pos + size);
        if (found != SIZE_MAX) return found;
      }
    }
    pos += size;
  }
  return SIZE_MAX;
}

}  // namespace liveorigin::media::testing
