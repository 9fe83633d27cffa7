// libFuzzer target for the event file loader: any input as the YAML text of
// one event file. yaml-cpp is not instrumented (the system library), so
// coverage guidance comes from the loader around it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "liveorigin/config/config_loader.h"

namespace {

using liveorigin::config::ConfigError;
using liveorigin::config::EventConfig;

// Invariants the loader promises; a violation is printed and aborts like a crash.
#define Check(condition) CheckAt(condition, #condition, __LINE__)
void CheckAt(bool ok, const char* what, int line) {
  if (ok) return;
  std::fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
  __builtin_trap();
}

bool IsValidId(const std::string& s) {
  return !s.empty() && s.size() <= 64 && s != "." && s != ".." &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

void CheckEvent(const EventConfig& e) {
  Check(IsValidId(e.id) && e.id != "admin");
  Check(e.segment_duration.count() > 0);
  Check(e.dvr_window >= e.segment_duration);
  Check(!e.media_template.empty() && e.media_template.has_number());
  Check(e.init_template.empty() || !e.init_template.has_number());
  Check(!e.pipelines.empty());
  Check(e.source_file == "fuzz.yaml");
  const bool tokens = e.AnyPipelineHasToken();
  for (size_t i = 0; i < e.pipelines.size(); ++i) {
    const auto& p = e.pipelines[i];
    Check(IsValidId(p.id));
    Check(p.token.has_value() == tokens);
    Check(e.PipelineIndex(p.id) == static_cast<int>(i));  // ids are unique
    if (p.token) {
      Check(!p.token->empty());
      for (size_t j = 0; j < i; ++j) Check(e.pipelines[j].token != p.token);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  EventConfig event;
  std::vector<ConfigError> errors;
  const bool ok = liveorigin::config::ParseEventConfig(text, "fuzz.yaml", &event, &errors);
  Check(ok == errors.empty());
  if (ok) CheckEvent(event);
  for (const ConfigError& e : errors) {
    Check(e.file == "fuzz.yaml" && !e.message.empty());
    Check(e.line >= 0 && e.column >= 0 && (e.line == 0) == (e.column == 0));
    Check(!e.ToString().empty());
  }
  return 0;
}
