// What the store keeps about operator controls (SPEC §12): disabled
// pipelines, forced selections and the audit trail of every change. Kept in
// the store, not in one process's memory, so that every node of a fleet
// sharing a store sees the same decisions and a restart keeps them.
// Plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace liveorigin::storage {

// Who made a change, and when.
struct OperatorActor {
  int64_t at_unix_ms = 0;
  std::string node;      // the node that took the request
  std::string remote;    // peer address of the admin request
  std::string token_id;  // which admin token authorised it ("" = no token configured)
};

// A pipeline taken out of selection (or put back) for one event.
struct PipelineControlRecord {
  std::string event;
  std::string pipeline;
  bool disabled = false;
  OperatorActor changed;
};

// One object pinned to one pipeline's candidate. Segments are keyed by
// (rendition, number) so retention removes them with their segments; other
// objects by path.
struct ForcedSelectionRecord {
  std::string event;
  std::string path;
  std::string rendition;           // segments and init segments
  std::optional<uint64_t> number;  // segments
  std::string pipeline;
  std::string etag;               // the forced candidate's ETag when it was forced
  std::string previous_pipeline;  // what was served before ("" = nothing)
  std::string previous_etag;
  OperatorActor changed;
};

// One entry of the audit trail.
struct AuditRecord {
  std::string event;
  uint64_t sequence = 0;  // orders entries of the same millisecond on one node
  std::string action;     // "disable" | "enable" | "select"
  std::string pipeline;
  std::string path;  // select only
  std::string old_etag, new_etag;
  OperatorActor actor;
};

// A change and its audit entry, written in one atomic batch.
struct OperatorChange {
  std::optional<PipelineControlRecord> pipeline;
  std::optional<ForcedSelectionRecord> forced;
  AuditRecord audit;
};

}  // namespace liveorigin::storage
