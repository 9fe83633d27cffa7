#include "fault_injecting_segment_store.h"

#include <cassert>

namespace liveorigin::storage {
namespace {

Status Injected(FaultInjectingSegmentStore::Fault fault, std::string_view what) {
  using Fault = FaultInjectingSegmentStore::Fault;
  switch (fault) {
    case Fault::kNone:
      break;
    case Fault::kNoSpace:
      return Status::NoSpace(std::string(what) + ": injected fault: no space left on device");
    case Fault::kIOError:
      return Status::IOError(std::string(what) + ": injected fault: I/O error");
  }
  return Status::Ok();
}

}  // namespace

FaultInjectingSegmentStore::FaultInjectingSegmentStore(std::shared_ptr<SegmentStore> target)
    : target_(std::move(target)) {
  assert(target_ != nullptr);
}

void FaultInjectingSegmentStore::SetWriteFault(Fault fault) {
  std::lock_guard lock(mu_);
  write_fault_ = fault;
}

void FaultInjectingSegmentStore::FailNextWrites(uint32_t n, Fault fault) {
  std::lock_guard lock(mu_);
  fail_next_ = fault == Fault::kNone ? 0 : n;
  fail_next_fault_ = fault;
}

void FaultInjectingSegmentStore::SetReadFault(bool fail) {
  std::lock_guard lock(mu_);
  read_fault_ = fail;
}

void FaultInjectingSegmentStore::ClearFaults() {
  std::lock_guard lock(mu_);
  write_fault_ = Fault::kNone;
  fail_next_ = 0;
  fail_next_fault_ = Fault::kNone;
  read_fault_ = false;
}

void FaultInjectingSegmentStore::BeforeNextWrite(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  before_next_write_ = std::move(fn);
}

FaultInjectingSegmentStore::Counts FaultInjectingSegmentStore::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

Status FaultInjectingSegmentStore::BeginWrite(uint64_t Counts::*counter, std::string_view what) {
  std::function<void()> before;
  {
    std::lock_guard lock(mu_);
    ++(counts_.*counter);
    Fault fault = write_fault_;
    if (fail_next_ > 0) {
      --fail_next_;
      fault = fail_next_fault_;
    }
    Status st = Injected(fault, what);
    if (!st.ok()) {
      ++counts_.failed_writes;
      injected_health_ = st;
      return st;
    }
    injected_health_ = Status::Ok();  // the target reports this write's result
    before.swap(before_next_write_);
  }
  if (before) before();
  return Status::Ok();
}

Status FaultInjectingSegmentStore::BeginRead(uint64_t Counts::*counter, std::string_view what) {
  std::lock_guard lock(mu_);
  ++(counts_.*counter);
  if (!read_fault_) return Status::Ok();
  ++counts_.failed_reads;
  return Injected(Fault::kIOError, what);
}

Status FaultInjectingSegmentStore::PutCandidate(const CandidateRecord& record,
                                                std::string_view body) {
  if (Status st = BeginWrite(&Counts::put_candidate, "write candidate"); !st.ok()) return st;
  return target_->PutCandidate(record, body);
}

Result<Body> FaultInjectingSegmentStore::GetBody(const CandidateId& id) {
  if (Status st = BeginRead(&Counts::get_body, "read " + id.path); !st.ok()) return st;
  return target_->GetBody(id);
}

Result<CandidateRecord> FaultInjectingSegmentStore::GetCandidate(const CandidateId& id) {
  if (Status st = BeginRead(&Counts::get_body, "read record of " + id.path); !st.ok()) return st;
  return target_->GetCandidate(id);
}

Status FaultInjectingSegmentStore::ForEachCandidate(
    const std::function<void(CandidateRecord&&)>& fn) {
  if (Status st = BeginRead(&Counts::for_each_candidate, "scan candidates"); !st.ok()) return st;
  return target_->ForEachCandidate(fn);
}

Status FaultInjectingSegmentStore::PutSelection(const SelectionRecord& selection) {
  if (Status st = BeginWrite(&Counts::put_selection, "write selection"); !st.ok()) return st;
  return target_->PutSelection(selection);
}

Result<SelectionRecord> FaultInjectingSegmentStore::ProposeSelection(
    const SelectionRecord& proposed) {
  if (Status st = BeginWrite(&Counts::put_selection, "write selection"); !st.ok()) return st;
  return target_->ProposeSelection(proposed);
}

Status FaultInjectingSegmentStore::ForEachSelection(
    const std::function<void(SelectionRecord&&)>& fn) {
  if (Status st = BeginRead(&Counts::for_each_selection, "scan selections"); !st.ok()) return st;
  return target_->ForEachSelection(fn);
}

Status FaultInjectingSegmentStore::ApplyOperatorChange(const OperatorChange& change) {
  if (Status st = BeginWrite(&Counts::apply_operator_change, "write operator change"); !st.ok()) {
    return st;
  }
  return target_->ApplyOperatorChange(change);
}

Status FaultInjectingSegmentStore::ForEachPipelineControl(
    const std::function<void(PipelineControlRecord&&)>& fn) {
  if (Status st = BeginRead(&Counts::for_each_operator_record, "scan pipeline controls");
      !st.ok()) {
    return st;
  }
  return target_->ForEachPipelineControl(fn);
}

Status FaultInjectingSegmentStore::ForEachForcedSelection(
    const std::function<void(ForcedSelectionRecord&&)>& fn) {
  if (Status st = BeginRead(&Counts::for_each_operator_record, "scan forced selections");
      !st.ok()) {
    return st;
  }
  return target_->ForEachForcedSelection(fn);
}

Status FaultInjectingSegmentStore::ForEachAudit(const std::function<void(AuditRecord&&)>& fn) {
  if (Status st = BeginRead(&Counts::for_each_operator_record, "scan audit"); !st.ok()) return st;
  return target_->ForEachAudit(fn);
}

Status FaultInjectingSegmentStore::DeleteSegmentsBefore(std::string_view event,
                                                        std::string_view rendition,
                                                        uint64_t first_kept) {
  if (Status st = BeginWrite(&Counts::delete_segments_before, "retention delete"); !st.ok()) {
    return st;
  }
  return target_->DeleteSegmentsBefore(event, rendition, first_kept);
}

Status FaultInjectingSegmentStore::DeleteObject(std::string_view event, std::string_view path) {
  if (Status st = BeginWrite(&Counts::delete_object, "delete object"); !st.ok()) return st;
  return target_->DeleteObject(event, path);
}

Status FaultInjectingSegmentStore::Health() const {
  {
    std::lock_guard lock(mu_);
    ++counts_.health;
    if (!injected_health_.ok()) return injected_health_;
  }
  return target_->Health();
}

}  // namespace liveorigin::storage
