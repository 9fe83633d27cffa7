// Strict YAML loading of the server file and the event files (SPEC §3).
//
// Unknown keys, wrong types, bad units, zero durations, bad templates and
// duplicate event ids are errors; every error names file, line and column.
// yaml-cpp exceptions never escape these functions. Thread-safe (no state).
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "liveorigin/config/config.h"

namespace liveorigin::config {

struct LoadedEvents {
  std::vector<EventConfig> events;  // sorted by id
  std::vector<ConfigError> errors;  // empty on success
};

// Loads the server file. On failure returns false and appends to `errors`.
bool LoadServerConfig(const std::filesystem::path& file, ServerConfig* out,
                      std::vector<ConfigError>* errors);

// Parses one event document from text; `file` is used in error messages.
bool ParseEventConfig(std::string_view yaml_text, const std::string& file, EventConfig* out,
                      std::vector<ConfigError>* errors);

// Loads every *.yaml / *.yml file in `dir` (non-recursive, hidden files
// skipped). Duplicate ids across files are errors naming both files.
LoadedEvents LoadEventDirectory(const std::filesystem::path& dir);

// A full, validated configuration snapshot.
struct Snapshot {
  ServerConfig server;
  std::vector<EventConfig> events;
};

// Loads the server file and its events_dir. Returns null and fills `errors`
// when anything is invalid.
std::shared_ptr<const Snapshot> LoadSnapshot(const std::filesystem::path& server_file,
                                             std::vector<ConfigError>* errors);

}  // namespace liveorigin::config
