// An in-memory SegmentStore for tests; thread-safe; loses everything on exit.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "liveorigin/storage/segment_store.h"

namespace liveorigin::storage {

class MemorySegmentStore final : public SegmentStore {
 public:
  Status PutCandidate(const CandidateRecord& record, std::string_view body) override;
  Result<Body> GetBody(const CandidateId& id) override;
  Result<CandidateRecord> GetCandidate(const CandidateId& id) override;
  Status ForEachCandidate(const std::function<void(CandidateRecord&&)>& fn) override;
  Status PutSelection(const SelectionRecord& selection) override;
  Result<SelectionRecord> ProposeSelection(const SelectionRecord& proposed) override;
  Status ForEachSelection(const std::function<void(SelectionRecord&&)>& fn) override;
  Status ApplyOperatorChange(const OperatorChange& change) override;
  Status ForEachPipelineControl(const std::function<void(PipelineControlRecord&&)>& fn) override;
  Status ForEachForcedSelection(const std::function<void(ForcedSelectionRecord&&)>& fn) override;
  Status ForEachAudit(const std::function<void(AuditRecord&&)>& fn) override;
  Status DeleteSegmentsBefore(std::string_view event, std::string_view rendition,
                              uint64_t first_kept) override;
  Status DeleteObject(std::string_view event, std::string_view path) override;
  Status Health() const override { return Status::Ok(); }

  size_t CandidateCount() const;

 private:
  struct Entry {
    CandidateRecord record;
    Body body;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> candidates_;            // GUARDED_BY(mu_), by storage key
  std::map<std::string, SelectionRecord> selections_;  // GUARDED_BY(mu_)
  // Operator controls by storage key; GUARDED_BY(mu_).
  std::map<std::string, PipelineControlRecord> pipeline_controls_;
  std::map<std::string, ForcedSelectionRecord> forced_;
  std::map<std::string, AuditRecord> audit_;
};

}  // namespace liveorigin::storage
