// LiveEvent: one event at run time. A thin shell around EventState (the pure
// state and decisions) and WaitList (held GETs): it owns the lock, does the
// store I/O, hashing and inspection an ingest needs, and logs what operators
// must see (failovers, misalignment).
//
// Thread-safe. Ingest and PersistSticky block on storage: call them from a
// worker thread (TaskRunner), never from a network thread. Everything else is
// in-memory and short.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "liveorigin/common/clock.h"
#include "liveorigin/common/thread_annotations.h"
#include "liveorigin/config/config.h"
#include "liveorigin/core/event_state.h"
#include "liveorigin/core/http_message.h"
#include "liveorigin/core/wait_list.h"
#include "liveorigin/storage/segment_store.h"

namespace liveorigin::core {

enum class IngestOutcome {
  kCreated,
  kReplaced,
  kIdentical,
  // Refused: this pipeline's clean candidate was already served for the URL and
  // the new bytes differ; served bytes never change (SPEC §5.1 stickiness).
  kConflict,
};

// What the request knew about a body besides its bytes (SPEC §11).
struct IngestMeta {
  std::optional<TimePoint> first_byte;  // when the first body byte arrived; default: `now`
  std::string sha256;                   // raw SHA-256 of the body when already computed
};

struct IngestResult {
  Status status;  // storage failure, when not OK
  IngestOutcome outcome = IngestOutcome::kCreated;
  storage::CandidateRecord record;
};

class LiveEvent {
 public:
  LiveEvent(std::shared_ptr<const config::EventConfig> config,
            std::shared_ptr<storage::SegmentStore> store);

  std::shared_ptr<const config::EventConfig> config() const;
  // Reload: new pipelines, priorities, tokens and durations apply at once.
  void UpdateConfig(std::shared_ptr<const config::EventConfig> config);
  std::optional<ObjectAddress> Classify(std::string_view path) const;

  // Hashes, inspects and stores one candidate, then makes it visible. Blocks.
  // The held GETs of that segment are moved to *to_wake: the caller runs them
  // after it has queued its own answer. `pipeline` must be one of the event's.
  IngestResult Ingest(const ObjectAddress& address, const std::string& pipeline, const Body& body,
                      std::vector<std::string> header_defects, std::string_view put_content_type,
                      TimePoint now, std::vector<WaitList::Wake>* to_wake,
                      const IngestMeta& meta = {});

  // Operator controls (SPEC §12) that selection applies from now on.
  void SetControls(std::shared_ptr<const EventControlState> state);

  // The candidate a GET serves now (SPEC §5.1). No I/O: a new sticky choice
  // comes back in Decision::persist for the caller to hand to PersistSticky.
  Decision Resolve(const ObjectAddress& address, TimePoint now);
  // Makes a sticky choice durable (blocks): proposes it to the store, which
  // keeps the first selection per segment for the whole fleet (SPEC §10).
  // Held GETs of the segment go to *to_wake. On OK, *serve is the candidate
  // to answer with: the proposed one, or the earlier winner's.
  Status PersistSticky(const storage::SelectionRecord& selection,
                       std::vector<WaitList::Wake>* to_wake,
                       storage::CandidateRecord* serve = nullptr);

  // Scale-out (SPEC §10): a candidate another node stored becomes visible
  // here. `init_body` is the body of an init segment (for its track
  // timescales), else null. True when it was new; the held GETs of its
  // segment then go to *to_wake.
  bool Learn(const storage::CandidateRecord& record, const Body& init_body,
             std::vector<WaitList::Wake>* to_wake);
  // Reads from the store every configured pipeline's candidate of one segment
  // that this event does not know (or knows with another ETag), and learns
  // them (blocks). At most once per `period` per segment: concurrent held
  // GETs share one read. Held GETs go to *to_wake when something was learned.
  void RecheckStore(const ObjectAddress& address, TimePoint now, Millis period,
                    std::vector<WaitList::Wake>* to_wake);
  // False when RecheckStore would skip this segment now (read within `period`):
  // lets held GETs skip posting work that would do nothing. No I/O.
  bool RecheckDue(const ObjectAddress& address, TimePoint now, Millis period) const;

  bool HasAnyCandidate(const ObjectAddress& address) const;
  bool PipelineHealthy(const std::string& pipeline, TimePoint now) const;

  // Held requests: `wake` runs once, without locks held, when a candidate of
  // that segment arrives or its sticky choice becomes durable.
  uint64_t AddWaiter(const std::string& rendition, uint64_t number, WaitList::Wake wake);
  void RemoveWaiter(const std::string& rendition, uint64_t number, uint64_t id);
  size_t waiting() const;

  // Start-up: state from the store.
  void Restore(storage::CandidateRecord record, const Body& init_body);
  void RestoreSelection(const storage::SelectionRecord& selection);

  // Retention (see EventState).
  std::vector<std::string> ForgetSegmentsBefore(uint64_t first_kept, size_t min_batch = 1);
  std::vector<std::string> ForgetObjectsOlderThan(TimePoint cutoff, bool include_init);

  // Snapshots for the admin API and metrics.
  EventView View(TimePoint now) const;
  ObjectView ViewObject(const ObjectAddress& address, TimePoint now) const;
  std::map<std::string, PipelineStats> PipelineSnapshot() const;

 private:
  void LogFailover(const ObjectAddress& address, const Decision& decision);

  const std::shared_ptr<storage::SegmentStore> store_;
  mutable Mutex mu_;
  EventState state_ GUARDED_BY(mu_);
  WaitList waiters_ GUARDED_BY(mu_);
  // RecheckStore: when each segment was last read, so held GETs share reads.
  // Bounded: entries older than a minute are dropped past 4096 of them.
  std::map<std::pair<std::string, uint64_t>, TimePoint> rechecked_ GUARDED_BY(mu_);
};

}  // namespace liveorigin::core
