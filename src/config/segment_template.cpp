#include "liveorigin/config/segment_template.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace liveorigin::config {
namespace {

constexpr int kMaxWidth = 20;
constexpr uint64_t kMaxNumber = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses "", "%d" or "%0<width>d" (the part after "Number"); -1 when malformed.
int ParseNumberFormat(std::string_view format) {
  if (format.empty() || format == "%d") return 0;
  if (format.size() < 4 || format.substr(0, 2) != "%0" || format.back() != 'd') return -1;
  const std::string_view digits = format.substr(2, format.size() - 3);
  if (digits.size() > 2) return -1;
  int width = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return -1;
    width = width * 10 + (c - '0');
  }
  return width >= 1 && width <= kMaxWidth ? width : -1;
}

// Digits to a value, leading zeros allowed; false when over kMaxNumber.
bool ParseNumber(std::string_view digits, uint64_t* value) {
  uint64_t v = 0;
  for (char c : digits) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (kMaxNumber - d) / 10) return false;
    v = v * 10 + d;
  }
  *value = v;
  return true;
}

}  // namespace

Result<SegmentTemplate> SegmentTemplate::Compile(std::string_view pattern) {
  if (pattern.empty()) return Status::InvalidArgument("empty template");
  if (pattern.front() == '/') {
    return Status::InvalidArgument("template '" + std::string(pattern) +
                                   "' must be a relative path (no leading '/')");
  }
  SegmentTemplate t;
  t.pattern_ = std::string(pattern);
  bool last_was_variable = false;
  std::string_view last_variable;
  size_t pos = 0;
  while (pos < pattern.size()) {
    const size_t dollar = pattern.find('$', pos);
    if (dollar != pos) {
      const size_t end = dollar == std::string_view::npos ? pattern.size() : dollar;
      if (t.parts_.empty() || t.parts_.back().kind != Kind::kLiteral) {
        t.parts_.push_back({Kind::kLiteral, "", 0});
      }
      t.parts_.back().literal.append(pattern.substr(pos, end - pos));
      last_was_variable = false;
      pos = end;
      continue;
    }
    const size_t close = pattern.find('$', dollar + 1);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unterminated '$' at offset " + std::to_string(dollar) +
                                     " in template '" + std::string(pattern) + "'");
    }
    const std::string_view name = pattern.substr(dollar + 1, close - dollar - 1);
    const std::string_view token = pattern.substr(dollar, close - dollar + 1);
    pos = close + 1;
    if (name.empty()) {  // "$$" is a literal dollar
      if (t.parts_.empty() || t.parts_.back().kind != Kind::kLiteral) {
        t.parts_.push_back({Kind::kLiteral, "", 0});
      }
      t.parts_.back().literal.push_back('$');
      last_was_variable = false;
      continue;
    }
    Part part{Kind::kLiteral, "", 0};
    if (name == "RepresentationID") {
      if (t.has_representation_) {
        return Status::InvalidArgument("'$RepresentationID$' appears twice (offset " +
                                       std::to_string(dollar) + ") in template '" +
                                       std::string(pattern) + "'");
      }
      part.kind = Kind::kRepresentationId;
      t.has_representation_ = true;
    } else if (name.substr(0, 6) == "Number") {
      const int width = ParseNumberFormat(name.substr(6));
      if (width < 0) {
        return Status::InvalidArgument("invalid number format '" + std::string(token) +
                                       "' at offset " + std::to_string(dollar) +
                                       ": expected $Number$ or $Number%0<width>d$ with width 1.." +
                                       std::to_string(kMaxWidth));
      }
      if (t.has_number_) {
        return Status::InvalidArgument("'$Number$' appears twice (offset " +
                                       std::to_string(dollar) + ") in template '" +
                                       std::string(pattern) + "'");
      }
      part.kind = Kind::kNumber;
      part.width = width;
      t.has_number_ = true;
    } else {
      return Status::InvalidArgument(
          "unsupported identifier '" + std::string(token) + "' at offset " +
          std::to_string(dollar) +
          " (supported: $RepresentationID$, $Number$, $Number%0<width>d$, $$)");
    }
    if (last_was_variable) {
      return Status::InvalidArgument("'" + std::string(token) + "' at offset " +
                                     std::to_string(dollar) + " directly follows '" +
                                     std::string(last_variable) +
                                     "': the split between them is ambiguous; put a literal "
                                     "character between them");
    }
    t.parts_.push_back(std::move(part));
    last_was_variable = true;
    last_variable = token;
  }
  // "$Number$2$RepresentationID$" cannot be split: the digit could belong to
  // the number or start the literal, and the variable after absorbs the rest.
  // (With only fixed text after it, as in "$Number$00.m4s", the split is unique.)
  for (size_t i = 0; i + 2 < t.parts_.size(); ++i) {
    const Part& next = t.parts_[i + 1];
    bool variable_later = false;
    for (size_t j = i + 2; j < t.parts_.size(); ++j) {
      variable_later = variable_later || t.parts_[j].kind != Kind::kLiteral;
    }
    if (t.parts_[i].kind == Kind::kNumber && next.kind == Kind::kLiteral && variable_later &&
        !next.literal.empty() && next.literal[0] >= '0' && next.literal[0] <= '9') {
      return Status::InvalidArgument("'$Number$' is directly followed by the digit '" +
                                     next.literal.substr(0, 1) + "' in template '" +
                                     std::string(pattern) +
                                     "': the end of the number is ambiguous; put a non-digit "
                                     "character after it");
    }
  }
  return t;
}

bool SegmentTemplate::MatchFrom(size_t index, std::string_view rest, Match* out) const {
  if (index == parts_.size()) return rest.empty();
  const Part& part = parts_[index];
  switch (part.kind) {
    case Kind::kLiteral:
      if (rest.substr(0, part.literal.size()) != part.literal) return false;
      return MatchFrom(index + 1, rest.substr(part.literal.size()), out);
    case Kind::kRepresentationId: {
      const size_t limit = std::min(rest.find('/'), rest.size());
      for (size_t len = 1; len <= limit; ++len) {
        const std::string_view id = rest.substr(0, len);
        if (id == "." || id == "..") continue;
        if (MatchFrom(index + 1, rest.substr(len), out)) {
          out->representation_id.assign(id);
          return true;
        }
      }
      return false;
    }
    case Kind::kNumber: {
      size_t limit = 0;
      while (limit < rest.size() && IsDigit(rest[limit])) ++limit;
      for (size_t len = 1; len <= limit; ++len) {
        uint64_t value = 0;
        if (!ParseNumber(rest.substr(0, len), &value)) return false;  // longer only grows
        if (MatchFrom(index + 1, rest.substr(len), out)) {
          out->number = value;
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

std::optional<SegmentTemplate::Match> SegmentTemplate::Matches(std::string_view path) const {
  if (parts_.empty()) return std::nullopt;
  Match match;
  if (!MatchFrom(0, path, &match)) return std::nullopt;
  return match;
}

std::string SegmentTemplate::Format(std::string_view representation_id, uint64_t number) const {
  std::string out;
  out.reserve(pattern_.size() + representation_id.size() + kMaxWidth);
  for (const Part& part : parts_) {
    switch (part.kind) {
      case Kind::kLiteral:
        out += part.literal;
        break;
      case Kind::kRepresentationId:
        out += representation_id;
        break;
      case Kind::kNumber: {
        const std::string digits = std::to_string(number);
        if (static_cast<size_t>(part.width) > digits.size()) {
          out.append(static_cast<size_t>(part.width) - digits.size(), '0');
        }
        out += digits;
        break;
      }
    }
  }
  return out;
}

}  // namespace liveorigin::config
