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
#include <set>
#include <string>
#include <vector>

#include "liveorigin/common/clock.h"
#include "liveorigin/common/thread_annotations.h"
#include "liveorigin/config/config.h"
#include "liveorigin/core/event_state.h"
#include "liveorigin/core/http_message.h"
#include "liveorigin/core/live_body.h"
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
  // The upload was visible while it arrived (SPEC §9): if GETs followed it
  // and it is clean, it becomes the sticky choice as it is committed.
  bool was_live = false;
};

struct IngestResult {
  Status status;  // storage failure, when not OK
  IngestOutcome outcome = IngestOutcome::kCreated;
  storage::CandidateRecord record;
};

// The upload a GET follows (SPEC §9), or why there is none.
struct FollowDecision {
  Selection::Outcome outcome = Selection::Outcome::kNone;  // kServe: follow `body`
  std::shared_ptr<LiveBody> body;
  std::string pipeline;
  std::string content_type;
  TimePoint wait_until{};  // kWait
};

class LiveEvent {
 public:
  // Uploads in progress one event keeps visible at most; past it, further
  // uploads are only visible once complete.
  static constexpr size_t kMaxLiveUploads = 1024;

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

  // Low latency (SPEC §9): uploads in progress of segments, and of objects
  // a playlist announces in EXT-X-PRELOAD-HINT (LL-HLS parts).
  // Makes an upload visible; returns its id, or 0 when it cannot be (the
  // registry is full, or this pipeline already has one for the segment).
  uint64_t AddLiveUpload(const ObjectAddress& address, const std::string& pipeline,
                         std::shared_ptr<LiveBody> body, std::string content_type,
                         std::vector<std::string> header_defects);
  // The upload's first moof has arrived (`prefix` holds the bytes up to its
  // end): it can be followed, ranked on its header defects, slate and
  // continuity with the timeline. Held GETs of the segment go to *to_wake.
  void LiveUploadFollowable(const ObjectAddress& address, uint64_t id, std::string_view prefix,
                            TimePoint now, std::vector<WaitList::Wake>* to_wake);
  // Ends an upload's visibility. If GETs followed it, the segment chooses
  // again; held GETs of the segment go to *to_wake. After a failure (cut off,
  // stalled, corrupt) the segment's GETs no longer wait for that pipeline.
  void RemoveLiveUpload(const ObjectAddress& address, uint64_t id, bool failed,
                        std::vector<WaitList::Wake>* to_wake);
  // Which upload a GET of the segment follows now; the choice is made once
  // and kept while that upload goes on. `chosen_only`: only an existing
  // choice (asked before selecting among complete candidates, so a segment
  // being followed is not answered with another pipeline's bytes).
  FollowDecision Follow(const ObjectAddress& address, TimePoint now, bool chosen_only = false);
  size_t live_uploads() const;
  // LL-HLS: whether the latest playlist of some pipeline announces `path` in
  // an EXT-X-PRELOAD-HINT (a GET for it is held until it is PUT).
  bool IsPreloadHint(const std::string& path) const;
  // Playlists whose hints are remembered at most (per event).
  static constexpr size_t kMaxHintedPlaylists = 256;

  bool HasAnyCandidate(const ObjectAddress& address) const;
  bool PipelineHealthy(const std::string& pipeline, TimePoint now) const;

  // Held requests: `wake` runs once, without locks held, when a candidate of
  // that segment arrives or its sticky choice becomes durable.
  uint64_t AddWaiter(const std::string& rendition, uint64_t number, WaitList::Wake wake);
  void RemoveWaiter(const std::string& rendition, uint64_t number, uint64_t id);
  // Held playlist GETs (LL-HLS blocking reload): `wake` runs once, without
  // locks held, when a new candidate of the object `path` is stored.
  uint64_t AddObjectWaiter(const std::string& path, WaitList::Wake wake);
  void RemoveObjectWaiter(const std::string& path, uint64_t id);
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

  struct LiveUpload {
    uint64_t id = 0;
    std::shared_ptr<LiveBody> body;
    std::string content_type;
    std::vector<std::string> defects;  // known so far
    bool followable = false;
  };
  struct LiveSegment {
    std::map<std::string, LiveUpload> by_pipeline;
    std::optional<std::string> followed;  // pipeline whose upload GETs follow
    std::set<std::string> failed;         // pipelines whose upload failed
  };
  using LiveKey = std::pair<std::string, uint64_t>;  // rendition, number

  const std::shared_ptr<storage::SegmentStore> store_;
  mutable Mutex mu_;
  EventState state_ GUARDED_BY(mu_);
  WaitList waiters_ GUARDED_BY(mu_);
  std::map<LiveKey, LiveSegment> live_ GUARDED_BY(mu_);
  size_t live_count_ GUARDED_BY(mu_) = 0;
  // (playlist path, pipeline) → paths its EXT-X-PRELOAD-HINT names.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> hints_ GUARDED_BY(mu_);
  uint64_t next_live_id_ GUARDED_BY(mu_) = 1;
  // RecheckStore: when each segment was last read, so held GETs share reads.
  // Bounded: entries older than a minute are dropped past 4096 of them.
  std::map<std::pair<std::string, uint64_t>, TimePoint> rechecked_ GUARDED_BY(mu_);
};

}  // namespace liveorigin::core
