// Defect tokens (SPEC §4.2) and their severity for ranking (SPEC §5.1).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace liveorigin::core {

namespace defect {
inline constexpr std::string_view kMissingSegment = "missing-segment";
inline constexpr std::string_view kShortDuration = "short-duration";
inline constexpr std::string_view kMissingVideoSamples = "missing-video-samples";
inline constexpr std::string_view kMissingAudioSamples = "missing-audio-samples";
inline constexpr std::string_view kTimingDiscontinuity = "timing-discontinuity";
inline constexpr std::string_view kDecodeError = "decode-error";
inline constexpr std::string_view kSlate = "slate";
inline constexpr std::string_view kCorrupt = "corrupt";
// Every token above, for metrics declared before their first occurrence.
inline constexpr std::array<std::string_view, 8> kKnown = {kMissingSegment,
                                                           kShortDuration,
                                                           kMissingVideoSamples,
                                                           kMissingAudioSamples,
                                                           kTimingDiscontinuity,
                                                           kDecodeError,
                                                           kSlate,
                                                           kCorrupt};
}  // namespace defect

// 1 (mildest) .. 5 (worst):
//   slate 1; short-duration, missing-*-samples 2; timing-discontinuity 3;
//   decode-error and unknown tokens 4; corrupt and missing-segment 5.
int DefectSeverity(std::string_view token);

bool IsKnownDefect(std::string_view token);

// Parses an X-Live-Defects header: comma-separated tokens, trimmed, lower-cased,
// duplicates and empty items dropped. Tokens longer than 64 characters or with
// characters outside [a-z0-9._-] are kept in a sanitized form ("invalid").
std::vector<std::string> ParseDefectHeader(std::string_view value);

// "a, b, c"
std::string JoinDefects(const std::vector<std::string>& defects);

}  // namespace liveorigin::core
