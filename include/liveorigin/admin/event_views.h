// JSON views of events and objects for the admin API (SPEC §6), built from
// the snapshots LiveEvent hands out. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "liveorigin/common/clock.h"
#include "liveorigin/core/event_state.h"

namespace liveorigin::admin {

// /admin/events/{id}: live edge, per pipeline figures, alignment, renditions.
nlohmann::json EventStatusJson(const core::EventView& view, TimePoint now);

// /admin/events/{id}/objects/{path}: every candidate with its inspection
// result, and which one is selected.
nlohmann::json ObjectJson(const config::EventConfig& config, const core::ObjectView& view);

// Scale-out (SPEC §10). Every node of a fleet writes its report into the
// shared store every kNodeReportInterval; a report older than
// kNodeReportStaleAfter is shown as stale (the node stopped, or cannot reach
// the store).
inline constexpr std::chrono::seconds kNodeReportInterval{2};
inline constexpr std::chrono::seconds kNodeReportStaleAfter{3 * kNodeReportInterval};

// What this node knows of each event: its timeline settings and pipeline
// order, the live edge, and per pipeline the state, the newest number and
// the selections this node made.
nlohmann::json NodeReportJson(const std::string& node, const std::vector<core::EventView>& views,
                              TimePoint now);

// The "cluster" array of /admin/events/{id}: one entry per node report (by
// node name) with its age, `stale`, and that node's view of the event, or
// `"knows_event": false`. `same_config` says whether the node's timeline
// settings and pipeline order equal `local`'s (different event files on
// different nodes show here). Reports that do not parse are listed with an
// error.
nlohmann::json ClusterViewJson(const core::EventView& local,
                               const std::vector<std::string>& reports, TimePoint now);

}  // namespace liveorigin::admin
