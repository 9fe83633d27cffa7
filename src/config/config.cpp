#include "liveorigin/config/config.h"

namespace liveorigin::config {

std::string Endpoint::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string ConfigError::ToString() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

bool EventConfig::AnyPipelineHasToken() const {
  for (const PipelineConfig& p : pipelines) {
    if (p.token.has_value()) return true;
  }
  return false;
}

int EventConfig::PipelineIndex(std::string_view pipeline_id) const {
  for (size_t i = 0; i < pipelines.size(); ++i) {
    if (pipelines[i].id == pipeline_id) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace liveorigin::config
