// Loads the committed media fixtures (scripts/make-media-fixtures.sh).
#pragma once

#include <fstream>
#include <iterator>
#include <string>

#include "box_builder.h"

namespace liveorigin::media::testing {

// Returns the bytes of <repo>/<path>, or an empty vector.
inline Bytes LoadRepoFile(const std::string& path) {
  std::ifstream in(std::string(LIVEORIGIN_SOURCE_DIR) + "/" + path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Returns the bytes of tests/fixtures/media/<name>, or an empty vector.
inline Bytes LoadFixture(const std::string& name) {
  return LoadRepoFile("tests/fixtures/media/" + name);
}

}  // namespace liveorigin::media::testing
