// SegmentStore: durable storage of candidates, their metadata, sticky
// selections and operator controls. The only door to persistence; everything
// above it can be rebuilt from what it holds (SPEC §7, §10 scale-out).
//
// Implementations are thread-safe. Bodies are returned as immutable shared
// buffers so callers can keep them in caches and responses without copying.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "liveorigin/common/status.h"
#include "liveorigin/storage/candidate_record.h"
#include "liveorigin/storage/operator_records.h"

namespace liveorigin::storage {

using Body = std::shared_ptr<const std::string>;

// Called with a candidate another node stored (SPEC §10), on a thread of the
// store's client library: it must return quickly and never block.
using RemoteCandidateListener = std::function<void(CandidateRecord&&)>;

class SegmentStore {
 public:
  virtual ~SegmentStore() = default;

  // Writes the candidate's metadata and body in one atomic batch, replacing
  // any previous candidate with the same id. After OK it is visible to GetBody
  // and durable per the store's sync setting; on error nothing is visible.
  virtual Status PutCandidate(const CandidateRecord& record, std::string_view body) = 0;

  // NotFound when the candidate does not exist.
  virtual Result<Body> GetBody(const CandidateId& id) = 0;

  // The record of one candidate; NotFound when it does not exist.
  virtual Result<CandidateRecord> GetCandidate(const CandidateId& id) = 0;

  // Calls `fn` for every stored candidate record (start-up rebuild), in key
  // order: per event, segments by rendition then number, then other objects.
  virtual Status ForEachCandidate(const std::function<void(CandidateRecord&&)>& fn) = 0;

  // Writes a sticky selection, replacing any for the same segment.
  virtual Status PutSelection(const SelectionRecord& selection) = 0;
  // The fleet-wide decision (SPEC §10): stores `proposed` unless a selection
  // for the same segment is already stored, and returns the one that holds —
  // `proposed`, or the earlier winner (compare-and-set). Every node that
  // proposes for a segment gets the same answer.
  virtual Result<SelectionRecord> ProposeSelection(const SelectionRecord& proposed) = 0;
  virtual Status ForEachSelection(const std::function<void(SelectionRecord&&)>& fn) = 0;

  // Operator controls (SPEC §12). A change (a pipeline control or a forced
  // selection, replacing the previous record with the same key) and its audit
  // entry are written in one atomic batch.
  virtual Status ApplyOperatorChange(const OperatorChange& change) = 0;
  virtual Status ForEachPipelineControl(const std::function<void(PipelineControlRecord&&)>& fn) = 0;
  virtual Status ForEachForcedSelection(const std::function<void(ForcedSelectionRecord&&)>& fn) = 0;
  // Per event, oldest first.
  virtual Status ForEachAudit(const std::function<void(AuditRecord&&)>& fn) = 0;

  // Retention: removes every candidate, selection and forced selection of
  // `event`/`rendition` whose number is below `first_kept`.
  virtual Status DeleteSegmentsBefore(std::string_view event, std::string_view rendition,
                                      uint64_t first_kept) = 0;
  // Removes all candidates of one non-segment object, and its forced selection.
  virtual Status DeleteObject(std::string_view event, std::string_view path) = 0;

  // OK when writes are expected to succeed; the last write error otherwise.
  virtual Status Health() const = 0;

  // Scale-out (SPEC §10). True when other nodes write to the same store, so
  // candidates may appear that this process did not write.
  virtual bool Shared() const { return false; }
  // Candidates stored by other nodes are announced to `listener` (replacing
  // any previous one; null stops the announcements, and no call is running
  // when this returns). A store no other node writes never calls it.
  virtual void SetRemoteCandidateListener(const RemoteCandidateListener& /*listener*/) {}
  // What each node of a fleet knows (a JSON text the admin module builds):
  // every node replaces its own report every few seconds, and any node can
  // read them all. A store no other node writes keeps none.
  virtual Status PutNodeReport(std::string_view /*node*/, std::string_view /*report*/) {
    return Status::Ok();
  }
  virtual Status ForEachNodeReport(const std::function<void(std::string&&)>& /*fn*/) {
    return Status::Ok();
  }
};

}  // namespace liveorigin::storage
