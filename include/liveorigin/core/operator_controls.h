// OperatorControls: the manual overrides of SPEC §12 — disabled pipelines and
// forced selections — with their audit trail.
//
// The store is the authority: every change is written (with its audit entry,
// in one batch) before it takes effect, and Restore() rebuilds everything
// from the store, so a restart keeps the decisions and a store shared by a
// fleet carries them to every node (a node that learns of a change by other
// means calls Restore() and Publish() again). In memory, each event's
// controls are an immutable EventControlState that Publish() hands to the
// LiveEvent; selection reads it as plain values.
//
// Thread-safe; changes are serialised.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "liveorigin/common/clock.h"
#include "liveorigin/common/status.h"
#include "liveorigin/common/thread_annotations.h"
#include "liveorigin/core/event_controls.h"
#include "liveorigin/core/event_registry.h"
#include "liveorigin/storage/segment_store.h"

namespace liveorigin::core {

class OperatorControls {
 public:
  // Who asked, as the admin listener knows it.
  struct Actor {
    std::string remote;    // peer address
    std::string token_id;  // admin token identifier; "" when no token is configured
  };

  // `node` names this node in audit entries.
  OperatorControls(std::shared_ptr<storage::SegmentStore> store, std::string node);

  // Replaces the in-memory controls with what the store holds.
  Status Restore();
  // Hands every configured event its current controls (start-up, reload,
  // after Restore). Events without any control are left alone.
  void Publish(EventRegistry& registry) const;
  // Hands one event its current controls.
  void Publish(EventRegistry& registry, std::string_view event) const;

  // The controls of `event` (never null; empty when none).
  std::shared_ptr<const EventControlState> StateOf(std::string_view event) const;

  // Disables or enables `pipeline` of `event`. `*changed` is false (and
  // nothing is written) when it already was in that state. Storage errors are
  // returned and change nothing.
  Status SetPipelineDisabled(std::string_view event, std::string_view pipeline, bool disabled,
                             const Actor& actor, TimePoint now, bool* changed);
  // Forces `record.path` of `record.event` to `record.pipeline` (its other
  // fields describe the object and the previous choice; `changed` is filled
  // in here). `*changed` is false when the same pipeline and ETag were
  // already forced.
  Status Force(storage::ForcedSelectionRecord record, const Actor& actor, TimePoint now,
               bool* changed);

  // The newest `max` audit entries of `event`, oldest first.
  std::vector<storage::AuditRecord> RecentAudit(std::string_view event, size_t max) const;

  // Retention (memory only: the store drops the records with the objects).
  // True when a forced selection was forgotten (publish the event again).
  bool ForgetSegmentsBefore(std::string_view event, std::string_view rendition,
                            uint64_t first_kept);
  bool ForgetObject(std::string_view event, std::string_view path);

  const std::string& node() const { return node_; }

  static constexpr size_t kAuditKeptPerEvent = 200;

 private:
  struct EventEntry {
    std::shared_ptr<const EventControlState> state;
    std::deque<storage::AuditRecord> audit;  // oldest first, at most kAuditKeptPerEvent
  };
  // REQUIRES: mu_ held. A copy of `event`'s state to modify.
  EventControlState CopyStateLocked(std::string_view event) const REQUIRES(mu_);
  void CommitLocked(std::string_view event, EventControlState state,
                    const storage::AuditRecord* audit) REQUIRES(mu_);
  storage::AuditRecord NewAudit(std::string_view event, std::string action, const Actor& actor,
                                TimePoint now) REQUIRES(mu_);

  const std::shared_ptr<storage::SegmentStore> store_;
  const std::string node_;
  mutable Mutex mu_;
  std::map<std::string, EventEntry, std::less<>> events_ GUARDED_BY(mu_);
  uint64_t version_ GUARDED_BY(mu_) = 0;
  uint64_t sequence_ GUARDED_BY(mu_) = 0;
};

}  // namespace liveorigin::core
