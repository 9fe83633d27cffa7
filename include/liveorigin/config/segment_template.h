// A DASH SegmentTemplate path pattern, compiled once and matched per request.
//
// Supported identifiers: $RepresentationID$, $Number$, $Number%0<width>d$ and
// the escape $$. Anything else between dollars ($Time$, $Bandwidth$, ...) is a
// compile error. Immutable after Compile(); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "liveorigin/common/status.h"

namespace liveorigin::config {

class SegmentTemplate {
 public:
  struct Match {
    std::string representation_id;   // empty when the template has no $RepresentationID$
    std::optional<uint64_t> number;  // set when the template has $Number$
  };

  SegmentTemplate() = default;

  // Errors name the offending identifier and its offset in `pattern`.
  static Result<SegmentTemplate> Compile(std::string_view pattern);

  // Matches a whole relative path (no leading '/'). $RepresentationID$ matches
  // one or more characters other than '/'; $Number$ one or more ASCII digits
  // (leading zeros allowed; a value over 2^63 does not match). When several
  // splits are possible the leftmost-shortest representation id wins.
  std::optional<Match> Matches(std::string_view path) const;

  // Renders the template; $Number%05d$ pads to width 5.
  std::string Format(std::string_view representation_id, uint64_t number) const;

  bool has_number() const { return has_number_; }
  bool has_representation_id() const { return has_representation_; }
  const std::string& pattern() const { return pattern_; }
  bool empty() const { return pattern_.empty(); }

 private:
  enum class Kind { kLiteral, kRepresentationId, kNumber };
  struct Part {
    Kind kind;
    std::string literal;  // kLiteral
    int width = 0;        // kNumber: zero-padding width (0 = none)
  };
  bool MatchFrom(size_t part, std::string_view rest, Match* out) const;

  std::string pattern_;
  std::vector<Part> parts_;
  bool has_number_ = false;
  bool has_representation_ = false;
};

}  // namespace liveorigin::config
