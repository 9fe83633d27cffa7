// JSON views of events and objects for the admin API (SPEC §6), built from
// the snapshots LiveEvent hands out. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "liveorigin/common/clock.h"
#include "liveorigin/core/event_state.h"

namespace liveorigin::admin {

// /admin/events/{id}: live edge, per pipeline figures, alignment, renditions.
nlohmann::json EventStatusJson(const core::EventView& view, TimePoint now);

// /admin/events/{id}/objects/{path}: every candidate with its inspection
// result, and which one is selected.
nlohmann::json ObjectJson(const config::EventConfig& config, const core::ObjectView& view);

}  // namespace liveorigin::admin
