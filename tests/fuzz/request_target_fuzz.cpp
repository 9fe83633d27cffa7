// libFuzzer target for request-target validation and DASH segment templates.
//
// The input is used three ways:
//  1. as a request target: ParseRequestTarget, then the decoded object path is
//     matched against the templates real events use (ffmpeg's defaults and the
//     per-directory layout), checking what Match promises and that Format and
//     Matches invert each other on these unambiguous templates;
//  2. as a template (templates come from configuration): Compile, and when it
//     compiles, Matches must find a split of anything Format renders;
//  3. split at the first '\n' into template and path: Matches on arbitrary pairs.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>

#include "liveorigin/config/segment_template.h"
#include "liveorigin/core/request_target.h"

namespace {

using liveorigin::config::SegmentTemplate;

constexpr uint64_t kMaxNumber = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// Invariants the code promises; a violation is printed and aborts like a crash.
#define Check(condition) CheckAt(condition, #condition, __LINE__)
void CheckAt(bool ok, const char* what, int line) {
  if (ok) return;
  std::fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
  __builtin_trap();
}

bool IsValidRepresentationId(std::string_view id) {
  return !id.empty() && id.find('/') == std::string_view::npos && id != "." && id != "..";
}

// What any successful match promises, whatever the template.
void CheckMatch(const SegmentTemplate& t, const SegmentTemplate::Match& m) {
  Check(m.number.has_value() == t.has_number());
  if (m.number) Check(*m.number <= kMaxNumber);
  if (t.has_representation_id()) {
    Check(IsValidRepresentationId(m.representation_id));
  } else {
    Check(m.representation_id.empty());
  }
}

// Templates whose every rendering has exactly one split: for these,
// Matches(Format(r, n)) must give back (r, n).
const SegmentTemplate& Fixed(int i) {
  static const SegmentTemplate kTemplates[] = {
      SegmentTemplate::Compile("chunk-stream$RepresentationID$-$Number%05d$.m4s").value(),
      SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value(),
      SegmentTemplate::Compile("seg_$Number%05d$.m4s").value(),
  };
  return kTemplates[i];
}
constexpr int kFixedCount = 3;

void CheckRoundTrip(const SegmentTemplate& t, std::string_view rep, uint64_t number) {
  const std::string rendered = t.Format(rep, number);
  const auto m = t.Matches(rendered);
  Check(m.has_value());
  CheckMatch(t, *m);
  Check(*m->number == number);
  if (t.has_representation_id()) Check(m->representation_id == rep);
  Check(t.Format(m->representation_id, *m->number) == rendered);
}

void FuzzTarget(std::string_view input) {
  const auto parsed = liveorigin::core::ParseRequestTarget(input);
  if (!parsed.ok()) {
    Check(!parsed.status().message().empty());
    return;
  }
  Check(input.size() <= liveorigin::core::kMaxTargetLength && input.front() == '/');
  const std::string& event = parsed->event;
  const std::string& path = parsed->path;
  Check(event.find('/') == std::string::npos && event != "." && event != "..");
  Check(!event.empty() || path.empty());
  for (const char c : event + path) {
    const auto u = static_cast<unsigned char>(c);
    Check(u >= 0x20 && u != 0x7f && c != '\\');
  }
  if (!path.empty()) {
    Check(path.front() != '/' && path.back() != '/');
    Check(path.find("//") == std::string::npos);
    size_t start = 0;
    for (;;) {
      const size_t end = path.find('/', start);
      const std::string_view seg =
          std::string_view(path).substr(start, end == std::string::npos ? end : end - start);
      Check(seg != "." && seg != "..");
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }

  // A number from the input, so round trips see many widths (0 .. 2^63-1).
  uint64_t number = input.size();
  for (const char c : input) number = number * 131 + static_cast<unsigned char>(c);
  number &= kMaxNumber;

  for (int i = 0; i < kFixedCount; ++i) {
    const SegmentTemplate& t = Fixed(i);
    if (const auto m = t.Matches(path)) {
      CheckMatch(t, *m);
      // Canonical (what the packager renders) or not, Format normalizes the
      // padding, and the normalized path matches to the same values.
      const std::string canonical = t.Format(m->representation_id, *m->number);
      if (canonical == path) {
        CheckRoundTrip(t, m->representation_id, *m->number);
      } else {
        const auto again = t.Matches(canonical);
        Check(again.has_value());
        Check(again->number == m->number && again->representation_id == m->representation_id);
      }
    }
    if (IsValidRepresentationId(path) || !t.has_representation_id()) {
      CheckRoundTrip(t, path, number);
      CheckRoundTrip(t, path, number % 100000);
    }
  }
}

void FuzzTemplate(std::string_view input) {
  const auto compiled = SegmentTemplate::Compile(input);
  if (!compiled.ok()) {
    Check(!compiled.status().message().empty());
    return;
  }
  const SegmentTemplate& t = *compiled;
  Check(t.pattern() == input && !t.empty() && input.front() != '/');
  for (const uint64_t n : {uint64_t{0}, uint64_t{42}, kMaxNumber}) {
    const std::string rendered = t.Format("v1", n);
    // The split Format used is a valid one, so Matches finds some split.
    // (Not necessarily that one: "$Number$2$RepresentationID$" renders 42, "v1"
    // as "422v1", which matches as 4, "2v1" — leftmost-shortest.)
    const auto m = t.Matches(rendered);
    Check(m.has_value());
    CheckMatch(t, *m);
  }
}

void FuzzTemplateAndPath(std::string_view input) {
  const size_t nl = input.find('\n');
  if (nl == std::string_view::npos) return;
  const auto compiled = SegmentTemplate::Compile(input.substr(0, nl));
  if (!compiled.ok()) return;
  if (const auto m = compiled->Matches(input.substr(nl + 1))) CheckMatch(*compiled, *m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzTarget(input);
  FuzzTemplate(input);
  FuzzTemplateAndPath(input);
  return 0;
}
