// Test support: the committed ffmpeg fixtures and byte-level mutations of
// fMP4 segments (the faults a broken packager produces).
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace liveorigin::testing {

// tests/fixtures/media/<name>; throws when missing so a test cannot pass on empty input.
inline std::string Fixture(const std::string& name) {
  const std::string path = std::string(LIVEORIGIN_SOURCE_DIR) + "/tests/fixtures/media/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline uint32_t Be32(const std::string& b, size_t off) {
  return (uint32_t(uint8_t(b[off])) << 24) | (uint32_t(uint8_t(b[off + 1])) << 16) |
         (uint32_t(uint8_t(b[off + 2])) << 8) | uint32_t(uint8_t(b[off + 3]));
}
inline void PutBe32(std::string* b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*b)[off + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
}

// Offset of the first box at `path` (e.g. {"moof","traf","tfdt"}), or npos.
inline size_t FindBox(const std::string& b, std::vector<std::string> path, size_t off = 0,
                      size_t end = std::string::npos) {
  if (end == std::string::npos) end = b.size();
  while (off + 8 <= end) {
    const uint32_t size = Be32(b, off);
    if (size < 8 || off + size > end) return std::string::npos;
    if (b.compare(off + 4, 4, path.front()) == 0) {
      if (path.size() == 1) return off;
      return FindBox(b, {path.begin() + 1, path.end()}, off + 8, off + size);
    }
    off += size;
  }
  return std::string::npos;
}

inline size_t RequireBox(const std::string& b, const std::vector<std::string>& path) {
  const size_t at = FindBox(b, path);
  if (at == std::string::npos) throw std::runtime_error("fixture lacks box " + path.back());
  return at;
}

// Adds `delta` to the tfdt (version 0 or 1) of the first traf.
inline std::string ShiftTfdt(std::string seg, int64_t delta) {
  const size_t tfdt = RequireBox(seg, {"moof", "traf", "tfdt"});
  if (seg[tfdt + 8] == 1) {
    uint64_t v = (uint64_t(Be32(seg, tfdt + 12)) << 32) | Be32(seg, tfdt + 16);
    v += delta;
    PutBe32(&seg, tfdt + 12, uint32_t(v >> 32));
    PutBe32(&seg, tfdt + 16, uint32_t(v));
  } else {
    PutBe32(&seg, tfdt + 12, uint32_t(Be32(seg, tfdt + 12) + delta));
  }
  return seg;
}

// Halves the trun sample count: the segment now describes half its media.
inline std::string CutSamples(std::string seg) {
  const size_t trun = RequireBox(seg, {"moof", "traf", "trun"});
  PutBe32(&seg, trun + 12, Be32(seg, trun + 12) / 2);
  return seg;
}

// Rewrites the styp major brand to "slat" (slate/filler content).
inline std::string MakeSlate(std::string seg) {
  seg.replace(RequireBox(seg, {"styp"}) + 8, 4, "slat");
  return seg;
}

}  // namespace liveorigin::testing
