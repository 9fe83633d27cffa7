// Parsing and formatting of the human units used in configuration files:
// durations ("250ms", "2s", "5m", "2h") and sizes ("512", "64KiB", "16MiB", "1GiB").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "liveorigin/common/status.h"

namespace liveorigin {

// Accepts an unsigned integer followed by one of ms, s, m, h. A bare number is
// rejected: a duration always names its unit.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Accepts an unsigned integer optionally followed by B, KiB, MiB, GiB (also
// KB/MB/GB as 1000-based). Overflow is an error.
Result<uint64_t> ParseSize(std::string_view text);

// "2s", "250ms", "2h" — the shortest exact form.
std::string FormatDuration(std::chrono::milliseconds d);

// ISO 8601 / RFC 3339 UTC timestamp, e.g. "2024-05-01T12:00:00Z" or with a
// numeric offset "+02:00" and optional fractional seconds.
Result<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view text);
std::string FormatTimestamp(std::chrono::system_clock::time_point t);  // RFC 3339, ms, Z
std::string FormatHttpDate(std::chrono::system_clock::time_point t);   // IMF-fixdate

}  // namespace liveorigin
