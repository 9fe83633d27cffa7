// LiveEvent: the runtime state of one event — every candidate's metadata, the
// per-pipeline health figures, sticky selections and held-request waiters.
//
// Thread-safe: one mutex guards the state; no I/O happens under it except the
// store writes that must be ordered with it (none: writes happen before the
// state is updated, so a 2xx is never visible before it is durable).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "liveorigin/common/clock.h"
#include "liveorigin/config/config.h"
#include "liveorigin/core/candidate_selector.h"
#include "liveorigin/core/event_controls.h"
#include "liveorigin/core/http_message.h"
#include "liveorigin/core/live_timeline.h"
#include "liveorigin/media/iso_bmff.h"
#include "liveorigin/storage/segment_store.h"

namespace liveorigin::core {

struct ObjectAddress {
  storage::ObjectKind kind = storage::ObjectKind::kOther;
  std::string path;
  std::string rendition;           // segments and init segments
  std::optional<uint64_t> number;  // segments
};

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

struct Resolution {
  Selection::Outcome outcome = Selection::Outcome::kNone;
  storage::CandidateRecord record;  // kServe: the chosen candidate
  TimePoint wait_until{};           // kWait
  std::string reason;
  bool selection_changed = false;  // this GET made a new choice for the segment
  bool storage_error = false;      // persisting the sticky choice failed (retried next GET)
};

struct PipelineStats {
  bool ever_put_segment = false;
  std::optional<uint64_t> last_number;
  TimePoint last_segment_put{};
  TimePoint last_put{};
  double lateness_seconds = 0;  // last segment: PUT completion minus availability time
  uint64_t segments = 0;
  uint64_t objects = 0;
  uint64_t selections = 0;  // segments whose served choice is this pipeline
  std::map<std::string, uint64_t> defects;
};

class LiveEvent {
 public:
  LiveEvent(std::shared_ptr<const config::EventConfig> config,
            std::shared_ptr<storage::SegmentStore> store);

  std::shared_ptr<const config::EventConfig> config() const;
  LiveTimeline timeline() const;
  // Reload: new pipelines, priorities, tokens and durations apply at once.
  void UpdateConfig(std::shared_ptr<const config::EventConfig> config);

  // Classifies a validated path below the event. Segment numbers must be in
  // canonical form (as the template renders them); nullopt otherwise.
  std::optional<ObjectAddress> Classify(std::string_view path) const;

  // Inspects and stores one candidate, then makes it visible. `pipeline` must
  // be one of the event's pipelines.
  IngestResult Ingest(const ObjectAddress& address, const std::string& pipeline, Body body,
                      std::vector<std::string> header_defects, std::string_view put_content_type,
                      TimePoint now, const IngestMeta& meta = {});

  // Operator controls (SPEC §12) that selection applies from now on; a state
  // older (lower version) than the one held is ignored.
  void SetControls(std::shared_ptr<const EventControlState> state);

  // The candidate a GET serves now (SPEC §5.1). May persist a sticky choice.
  Resolution Resolve(const ObjectAddress& address, TimePoint now);

  // True when any pipeline delivered this segment or object.
  bool HasAnyCandidate(const ObjectAddress& address) const;

  // Held requests: `wake` is called (without locks held, on the ingesting
  // thread) when a candidate of that segment arrives. Returns an id for
  // RemoveWaiter. Waiters are one-shot.
  uint64_t AddWaiter(const std::string& rendition, uint64_t number, std::function<void()> wake);
  void RemoveWaiter(const std::string& rendition, uint64_t number, uint64_t id);

  // Start-up: state from the store.
  void Restore(storage::CandidateRecord record, const Body& init_body);
  void RestoreSelection(const storage::SelectionRecord& selection);

  // Retention: in every rendition with at least `min_batch` segments below
  // `first_kept`, forgets them and returns the rendition (the caller deletes the
  // range from the store). Batching keeps range tombstones few.
  std::vector<std::string> ForgetSegmentsBefore(uint64_t first_kept, size_t min_batch = 1);
  // Retention of non-segment objects (manifests, captions...) that no pipeline
  // rewrote since `cutoff`; init segments are kept unless `include_init`.
  // Returns the forgotten paths (the caller deletes them from the store).
  std::vector<std::string> ForgetObjectsOlderThan(TimePoint cutoff, bool include_init);

  bool PipelineHealthy(const std::string& pipeline, TimePoint now) const;

  // Admin views (SPEC §6).
  nlohmann::json StatusJson(TimePoint now) const;
  nlohmann::json ObjectJson(const ObjectAddress& address, TimePoint now) const;
  std::map<std::string, PipelineStats> PipelineSnapshot() const;

 private:
  struct SegmentSlot {
    std::map<std::string, storage::CandidateRecord> candidates;  // by pipeline
    std::optional<std::string> sticky;  // pipeline whose clean candidate was served
    bool sticky_persisted = false;      // the sticky choice is durable in the store
    std::optional<std::string> served;  // last pipeline served, for selection counts
    // Pipelines whose candidate is being replaced by different bytes right now:
    // their current bytes must not be served (and become sticky) meanwhile.
    std::set<std::string> replacing;
  };
  struct Rendition {
    std::map<uint64_t, SegmentSlot> segments;
    std::map<std::string, media::InitSegmentInfo> init_by_pipeline;
  };
  struct Waiter {
    uint64_t id;
    std::function<void()> wake;
  };

  bool HealthyLocked(const std::string& pipeline, TimePoint now) const;
  std::vector<std::string> PipelineOrderLocked(
      const SegmentSlot* slot,
      const std::map<std::string, storage::CandidateRecord>* objects) const;
  Selection SelectLocked(const SegmentSlot& slot, uint64_t number, TimePoint now,
                         std::vector<std::string>* order) const;
  const storage::CandidateRecord* ViewerPreviousLocked(const std::string& rendition,
                                                       uint64_t number, const std::string& pipeline,
                                                       TimePoint now) const;
  const media::InitSegmentInfo* InitLocked(const std::string& rendition,
                                           const std::string& pipeline) const;
  void NoteCandidateLocked(const storage::CandidateRecord& record, TimePoint when);
  void UpdateAlignmentLocked(const storage::CandidateRecord& record);

  std::shared_ptr<storage::SegmentStore> store_;
  mutable std::mutex mu_;
  std::shared_ptr<const config::EventConfig> config_;  // GUARDED_BY(mu_)
  std::map<std::string, Rendition> renditions_;        // GUARDED_BY(mu_)
  std::map<std::string, std::map<std::string, storage::CandidateRecord>>
      objects_;                                     // path → pipeline
  std::map<std::string, PipelineStats> pipelines_;  // GUARDED_BY(mu_)
  struct Alignment {
    uint64_t number = 0;
    double offset_seconds = 0;
    bool aligned = true;
  };
  std::map<std::pair<std::string, std::string>, Alignment> alignment_;       // GUARDED_BY(mu_)
  std::map<std::pair<std::string, uint64_t>, std::vector<Waiter>> waiters_;  // GUARDED_BY(mu_)
  std::map<std::string, std::string> last_served_;     // rendition → pipeline; GUARDED_BY(mu_)
  uint64_t next_waiter_id_ = 1;                        // GUARDED_BY(mu_)
  std::shared_ptr<const EventControlState> controls_;  // GUARDED_BY(mu_); null = none
};

}  // namespace liveorigin::core
