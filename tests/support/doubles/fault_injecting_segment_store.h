// FaultInjectingSegmentStore: a SegmentStore that forwards to another one and
// fails on command, for tests of disk-full and I/O-error handling (the idea of
// LevelDB's EnvWrapper/SpecialEnv, one level up).
//
// Writes are PutCandidate, PutSelection, ApplyOperatorChange,
// DeleteSegmentsBefore and DeleteObject; reads are GetBody and the ForEach
// scans. A failed call is
// refused before it reaches the target, so nothing of it is stored: the
// atomicity the SegmentStore contract promises holds for injected faults too.
//
// Health() mirrors RocksDbSegmentStore (the result of the last write): after an
// injected write failure it reports that failure until a write is forwarded
// again; then the target's Health() answers. Switching a fault off does not by
// itself make the store healthy — the next write does.
//
// Thread-safe: switches may be flipped while other threads call the store. No
// lock is held while the target runs, so ForEach callbacks may call back in.
// Shares ownership of the target.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "liveorigin/storage/segment_store.h"

namespace liveorigin::storage {

class FaultInjectingSegmentStore final : public SegmentStore {
 public:
  enum class Fault {
    kNone,
    kNoSpace,  // Status::NoSpace: the disk is full
    kIOError,  // Status::IOError
  };

  // Calls seen so far, failed ones included.
  struct Counts {
    uint64_t put_candidate = 0;
    uint64_t get_body = 0;
    uint64_t for_each_candidate = 0;
    uint64_t put_selection = 0;
    uint64_t for_each_selection = 0;
    uint64_t apply_operator_change = 0;
    uint64_t for_each_operator_record = 0;  // pipeline controls, forced selections, audit
    uint64_t delete_segments_before = 0;
    uint64_t delete_object = 0;
    uint64_t health = 0;
    uint64_t failed_writes = 0;  // refused by an injected fault
    uint64_t failed_reads = 0;   // refused by an injected fault
  };

  // REQUIRES: target != nullptr.
  explicit FaultInjectingSegmentStore(std::shared_ptr<SegmentStore> target);

  // Every write fails with `fault` until set back to kNone. Default kNone.
  void SetWriteFault(Fault fault);
  // The next `n` writes fail with `fault` (kIOError or kNoSpace), then writes
  // go through again. Takes precedence over SetWriteFault while n > 0.
  void FailNextWrites(uint32_t n, Fault fault = Fault::kIOError);
  // Every read fails with IOError while true. Default false.
  void SetReadFault(bool fail);
  // Turns every fault off (does not reset counts or Health; see above).
  void ClearFaults();
  // Runs `fn` once, on the calling thread, when the next write is about to be
  // forwarded (after fault checks): lets a test act in the middle of an
  // operation that is writing, e.g. issue a GET while a PUT is being stored.
  // `fn` may call this store. Empty = none (the default).
  void BeforeNextWrite(std::function<void()> fn);

  Counts counts() const;

  Status PutCandidate(const CandidateRecord& record, std::string_view body) override;
  Result<Body> GetBody(const CandidateId& id) override;
  Result<CandidateRecord> GetCandidate(const CandidateId& id) override;
  Status ForEachCandidate(const std::function<void(CandidateRecord&&)>& fn) override;
  Status PutSelection(const SelectionRecord& selection) override;
  // Counted and faulted as put_selection.
  Result<SelectionRecord> ProposeSelection(const SelectionRecord& proposed) override;
  Status ForEachSelection(const std::function<void(SelectionRecord&&)>& fn) override;
  Status ApplyOperatorChange(const OperatorChange& change) override;
  Status ForEachPipelineControl(const std::function<void(PipelineControlRecord&&)>& fn) override;
  Status ForEachForcedSelection(const std::function<void(ForcedSelectionRecord&&)>& fn) override;
  Status ForEachAudit(const std::function<void(AuditRecord&&)>& fn) override;
  Status DeleteSegmentsBefore(std::string_view event, std::string_view rendition,
                              uint64_t first_kept) override;
  Status DeleteObject(std::string_view event, std::string_view path) override;
  Status Health() const override;

 private:
  // Counts the call with `counter` and returns the injected failure for this
  // write, or OK to forward it (which clears the injected health error, after
  // running the BeforeNextWrite function if one is set).
  Status BeginWrite(uint64_t Counts::*counter, std::string_view what);
  // Counts the call and returns the injected failure for this read, or OK.
  Status BeginRead(uint64_t Counts::*counter, std::string_view what);

  const std::shared_ptr<SegmentStore> target_;
  mutable std::mutex mu_;
  Fault write_fault_ = Fault::kNone;         // GUARDED_BY(mu_)
  uint32_t fail_next_ = 0;                   // GUARDED_BY(mu_)
  Fault fail_next_fault_ = Fault::kNone;     // GUARDED_BY(mu_)
  bool read_fault_ = false;                  // GUARDED_BY(mu_)
  Status injected_health_;                   // GUARDED_BY(mu_)
  std::function<void()> before_next_write_;  // GUARDED_BY(mu_)
  mutable Counts counts_;                    // GUARDED_BY(mu_)
};

}  // namespace liveorigin::storage
