#include "liveorigin/core/event_controls.h"

namespace liveorigin::core {

const storage::ForcedSelectionRecord* EventControlState::ForcedFor(std::string_view path) const {
  auto it = forced.find(path);
  return it == forced.end() ? nullptr : &it->second;
}

std::optional<size_t> ApplyControls(const EventControlState* state,
                                    const std::vector<std::string>& order, std::string_view path,
                                    std::vector<PipelineView>* views) {
  if (!state) return std::nullopt;
  std::optional<size_t> forced;
  const auto* f = state->ForcedFor(path);
  for (size_t i = 0; i < order.size() && i < views->size(); ++i) {
    (*views)[i].disabled = state->IsDisabled(order[i]);
    if (f && f->pipeline == order[i]) forced = i;
  }
  return forced;
}

bool IsForcedTo(const EventControlState* state, std::string_view path, std::string_view pipeline) {
  if (!state) return false;
  const auto* f = state->ForcedFor(path);
  return f && f->pipeline == pipeline;
}

}  // namespace liveorigin::core
