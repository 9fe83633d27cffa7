// EventState: the runtime state of one event as plain values — every
// candidate's metadata, per-pipeline health figures, sticky selections and
// alignment between pipelines — and the decisions taken on it (SPEC §4.3,
// §5.1). Values in, decisions and the writes to make out: no store, no
// logging, no JSON, no clock of its own ("now" is passed in).
//
// Not thread-safe: LiveEvent owns one behind its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "liveorigin/common/clock.h"
#include "liveorigin/config/config.h"
#include "liveorigin/core/candidate_selector.h"
#include "liveorigin/core/event_controls.h"
#include "liveorigin/media/iso_bmff.h"
#include "liveorigin/storage/candidate_record.h"

namespace liveorigin::core {

struct ObjectAddress {
  storage::ObjectKind kind = storage::ObjectKind::kOther;
  std::string path;
  std::string rendition;           // segments and init segments
  std::optional<uint64_t> number;  // segments
};

// Classifies a validated path below the event. Segment numbers must be in
// canonical form (as the template renders them); nullopt otherwise.
std::optional<ObjectAddress> ClassifyPath(const config::EventConfig& config, std::string_view path);

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

struct PipelineAlignment {
  std::string first, second;  // pipeline ids, first < second
  uint64_t number = 0;        // segment of the last comparison
  double offset_seconds = 0;  // first's tfdt minus second's
  bool aligned = true;
};

// What an ingest must do before the body is stored (phase 1 of an ingest).
struct IngestPlan {
  enum class Kind {
    kCreate,     // first candidate from this pipeline
    kReplace,    // different bytes replace this pipeline's candidate
    kIdentical,  // same bytes and defects: nothing to write (204)
    // This pipeline's clean candidate was already served for the URL and the
    // new bytes differ; served bytes never change (SPEC §5.1 stickiness).
    kConflict,
  };
  Kind kind = Kind::kCreate;
  storage::CandidateRecord existing;           // kIdentical, kConflict
  std::optional<media::InitSegmentInfo> init;  // segments: the rendition's init, if known
  Millis segment_duration{0};
};

// The candidate a GET serves now, and what the caller must do about it.
struct Decision {
  Selection::Outcome outcome = Selection::Outcome::kNone;
  storage::CandidateRecord record;  // kServe: the chosen candidate
  TimePoint wait_until{};           // kWait
  std::string reason;
  bool selection_changed = false;  // this GET made a new choice for the segment
  // The chosen clean candidate became sticky and must be made durable before
  // its bytes are served (SPEC §5.1, §7): the caller writes it, then reports
  // with StickyPersisted.
  std::optional<storage::SelectionRecord> persist;
  // The serving pipeline of the rendition changed (for failover logs): the
  // previous one, the most preferred one, and why that one was not served.
  struct Failover {
    std::string previous, chosen, preferred, preferred_state;
  };
  std::optional<Failover> failover;
};

// A read-only view of one object for the admin API.
struct ObjectView {
  ObjectAddress address;
  TimePoint availability_time{};  // segments
  Selection selection;
  std::vector<std::string> order;                                     // pipeline ids by priority
  std::vector<std::pair<storage::CandidateRecord, bool>> candidates;  // record, pipeline healthy
  std::optional<std::string> sticky;
};

// A read-only view of the whole event for the admin API and metrics.
struct EventView {
  std::shared_ptr<const config::EventConfig> config;
  std::map<std::string, PipelineStats> pipelines;
  std::map<std::string, bool> healthy;
  std::vector<PipelineAlignment> alignment;
  struct RenditionSummary {
    std::string id;
    size_t segments = 0;
    std::optional<uint64_t> first, last;
  };
  std::vector<RenditionSummary> renditions;
};

class EventState {
 public:
  explicit EventState(std::shared_ptr<const config::EventConfig> config);

  const std::shared_ptr<const config::EventConfig>& config() const { return config_; }
  void SetConfig(std::shared_ptr<const config::EventConfig> config) { config_ = std::move(config); }
  // Operator controls (SPEC §12) that selection applies from now on; a state
  // older (lower version) than the one held is ignored.
  void SetControls(std::shared_ptr<const EventControlState> state);

  // Phase 1 of an ingest: decides from what is stored whether the new bytes
  // (identified by `etag`) are new, a replacement, identical or refused. For
  // kReplace, the old candidate stops being servable until Commit or Abandon.
  IngestPlan PlanIngest(const ObjectAddress& address, const std::string& pipeline,
                        const std::string& etag, const std::vector<std::string>& header_defects,
                        TimePoint now);
  // Phase 2, after inspection: tags timing-discontinuity against the segment
  // n−1 as viewers have it (SPEC §4.3).
  void CheckContinuity(storage::CandidateRecord* record, TimePoint now) const;
  // Phase 3, after the store write succeeded: makes the candidate visible.
  // Returns pipeline pairs that became misaligned with this candidate.
  std::vector<PipelineAlignment> Commit(const storage::CandidateRecord& record,
                                        const std::optional<media::InitSegmentInfo>& init,
                                        TimePoint now);
  // The store write failed: the old candidate (if any) is servable again.
  void Abandon(const ObjectAddress& address, const std::string& pipeline);

  // The candidate a GET serves now (SPEC §5.1).
  Decision Resolve(const ObjectAddress& address, TimePoint now);
  // Outcome of writing a Decision::persist record: `winner` is the selection
  // the store holds for the segment (SPEC §10: another node may have decided
  // first), meaningful when `ok`. Returns the candidate a GET serves now: the
  // winner's when this state knows it with the winner's ETag, else nullopt
  // (the caller learns the winner's candidate and calls this again).
  std::optional<storage::CandidateRecord> StickyPersisted(const storage::SelectionRecord& proposed,
                                                          const storage::SelectionRecord& winner,
                                                          bool ok);
  // Single-node form: the proposal is the winner.
  void StickyPersisted(const storage::SelectionRecord& selection, bool ok) {
    StickyPersisted(selection, selection, ok);
  }

  // Scale-out (SPEC §10): a candidate another node stored. False when it is
  // already known (same ETag) or must not replace what is known: a sticky
  // candidate's bytes never change. Otherwise it becomes visible like a
  // committed one, with the PUT's own completion time.
  bool Learn(const storage::CandidateRecord& record,
             const std::optional<media::InitSegmentInfo>& init);
  // The ETag this state holds for one candidate, if any.
  std::optional<std::string> KnownEtag(const storage::CandidateId& id) const;

  bool HasAnyCandidate(const ObjectAddress& address) const;
  // Low latency (SPEC §9). The event's pipelines in priority order, with
  // their health and operator controls (candidates left empty), for a choice
  // among uploads in progress of `path`.
  std::vector<PipelineView> PipelineViews(std::string_view path, TimePoint now,
                                          std::vector<std::string>* order) const;
  // The init segment timing that applies to a pipeline's segments of `rendition`.
  std::optional<media::InitSegmentInfo> InitInfo(const std::string& rendition,
                                                 const std::string& pipeline) const;
  // A followed upload was stored: its clean candidate becomes the sticky choice
  // unless one exists. Returns the record to make durable (then report with
  // StickyPersisted), or nullopt when nothing changed.
  std::optional<storage::SelectionRecord> AdoptFollowed(const ObjectAddress& address,
                                                        const std::string& pipeline);
  bool PipelineHealthy(const std::string& pipeline, TimePoint now) const;

  // Start-up: state from the store.
  void Restore(storage::CandidateRecord record, const std::optional<media::InitSegmentInfo>& init);
  void RestoreSelection(const storage::SelectionRecord& selection);

  // Retention: in every rendition with at least `min_batch` segments below
  // `first_kept`, forgets them and returns the rendition (the caller deletes the
  // range from the store). Batching keeps range tombstones few.
  std::vector<std::string> ForgetSegmentsBefore(uint64_t first_kept, size_t min_batch);
  // Non-segment objects that no pipeline rewrote since `cutoff`; init segments
  // only when `include_init`. Returns the forgotten paths.
  std::vector<std::string> ForgetObjectsOlderThan(TimePoint cutoff, bool include_init);

  EventView View(TimePoint now) const;
  ObjectView ViewObject(const ObjectAddress& address, TimePoint now) const;
  std::map<std::string, PipelineStats> pipelines() const { return pipelines_; }

 private:
  struct SegmentSlot {
    std::map<std::string, storage::CandidateRecord> candidates;  // by pipeline
    std::optional<std::string> sticky;  // pipeline whose clean candidate was served
    bool sticky_persisted = false;      // the sticky choice is durable in the store
    bool sticky_persisting = false;     // a write of the sticky choice is under way
    std::optional<std::string> served;  // last pipeline served, for selection counts
    // Pipelines whose candidate is being replaced by different bytes right now:
    // their current bytes must not be served (and become sticky) meanwhile.
    std::set<std::string> replacing;
  };
  struct Rendition {
    std::map<uint64_t, SegmentSlot> segments;
    std::map<std::string, media::InitSegmentInfo> init_by_pipeline;
  };
  using Candidates = std::map<std::string, storage::CandidateRecord>;

  bool Healthy(const std::string& pipeline, TimePoint now) const;
  std::vector<std::string> PipelineOrder(const Candidates& present) const;
  Selection SelectInSlot(const SegmentSlot& slot, uint64_t number, TimePoint now,
                         std::vector<std::string>* order) const;
  Selection SelectAmong(const Candidates& objects, std::string_view path, TimePoint now,
                        std::vector<std::string>* order) const;
  const SegmentSlot* FindSlot(const std::string& rendition, uint64_t number) const;
  SegmentSlot* FindSlot(const std::string& rendition, uint64_t number);
  const storage::CandidateRecord* ViewerPrevious(const std::string& rendition, uint64_t number,
                                                 const std::string& pipeline, TimePoint now) const;
  const media::InitSegmentInfo* InitFor(const std::string& rendition,
                                        const std::string& pipeline) const;
  void NoteCandidate(const storage::CandidateRecord& record, TimePoint when);
  std::vector<PipelineAlignment> UpdateAlignment(const storage::CandidateRecord& record);

  std::shared_ptr<const config::EventConfig> config_;
  std::map<std::string, Rendition> renditions_;
  std::map<std::string, Candidates> objects_;  // path → pipeline → record
  std::map<std::string, PipelineStats> pipelines_;
  std::map<std::pair<std::string, std::string>, PipelineAlignment> alignment_;
  std::map<std::string, std::string> last_served_;     // rendition → pipeline
  std::shared_ptr<const EventControlState> controls_;  // null = none
};

}  // namespace liveorigin::core
