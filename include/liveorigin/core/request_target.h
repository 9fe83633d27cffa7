// Validation of request targets (SPEC §4.5 "400" row): "/{event}/{path}".
#pragma once

#include <string>
#include <string_view>

#include "liveorigin/common/status.h"

namespace liveorigin::core {

struct ParsedTarget {
  std::string event;  // first path segment
  std::string path;   // the rest, percent-decoded, without leading '/'; may be empty
};

inline constexpr size_t kMaxTargetLength = 1024;

// Strips the query, percent-decodes, and refuses: targets not starting with
// '/', longer than 1 KiB, bad %-escapes, NUL or control characters,
// backslashes, empty segments ("a//b", trailing '/'), "." and ".." segments.
// The message says which rule was broken.
Result<ParsedTarget> ParseRequestTarget(std::string_view target);

}  // namespace liveorigin::core
