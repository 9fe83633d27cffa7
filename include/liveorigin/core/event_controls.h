// EventControlState: the operator controls of one event (SPEC §12) as an
// immutable value — which pipelines are disabled, which objects are forced
// to which pipeline. LiveEvent holds the latest one and feeds it to the
// selector as plain values; OperatorControls makes new ones.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "liveorigin/core/candidate_selector.h"
#include "liveorigin/storage/operator_records.h"

namespace liveorigin::core {

struct EventControlState {
  uint64_t version = 0;  // higher = newer; a LiveEvent never goes back to an older one
  std::set<std::string, std::less<>> disabled;
  std::map<std::string, storage::ForcedSelectionRecord, std::less<>> forced;  // by object path

  bool IsDisabled(std::string_view pipeline) const { return disabled.count(pipeline) > 0; }
  const storage::ForcedSelectionRecord* ForcedFor(std::string_view path) const;
};

// Marks the disabled pipelines of `views` (one per entry of `order`, in the
// same order) and returns the index in `order` of the pipeline `path` is
// forced to, if any. `state` may be null (no controls).
std::optional<size_t> ApplyControls(const EventControlState* state,
                                    const std::vector<std::string>& order, std::string_view path,
                                    std::vector<PipelineView>* views);

// True when `path` is forced to `pipeline`.
bool IsForcedTo(const EventControlState* state, std::string_view path, std::string_view pipeline);

}  // namespace liveorigin::core
