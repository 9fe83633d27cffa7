#include "liveorigin/core/defects.h"

#include <algorithm>

namespace liveorigin::core {

int DefectSeverity(std::string_view token) {
  if (token == defect::kSlate) return 1;
  if (token == defect::kShortDuration || token == defect::kMissingVideoSamples ||
      token == defect::kMissingAudioSamples) {
    return 2;
  }
  if (token == defect::kTimingDiscontinuity) return 3;
  if (token == defect::kCorrupt || token == defect::kMissingSegment) return 5;
  return 4;  // decode-error and any token we do not know
}

bool IsKnownDefect(std::string_view token) {
  static constexpr std::string_view kKnown[] = {defect::kMissingSegment,
                                                defect::kShortDuration,
                                                defect::kMissingVideoSamples,
                                                defect::kMissingAudioSamples,
                                                defect::kTimingDiscontinuity,
                                                defect::kDecodeError,
                                                defect::kSlate,
                                                defect::kCorrupt};
  return std::find(std::begin(kKnown), std::end(kKnown), token) != std::end(kKnown);
}

std::vector<std::string> ParseDefectHeader(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) continue;
    std::string token;
    bool valid = item.size() <= 64;
    for (char c : item) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
        valid = false;
      }
      token.push_back(c);
    }
    if (!valid) token = "invalid";
    if (std::find(out.begin(), out.end(), token) == out.end()) out.push_back(std::move(token));
    if (out.size() >= 16) break;  // bound what one header can make us store
  }
  return out;
}

std::string JoinDefects(const std::vector<std::string>& defects) {
  std::string out;
  for (const auto& d : defects) {
    if (!out.empty()) out += ", ";
    out += d;
  }
  return out;
}

}  // namespace liveorigin::core
