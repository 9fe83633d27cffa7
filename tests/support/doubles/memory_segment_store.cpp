#include "memory_segment_store.h"

#include "storage_keys.h"

namespace liveorigin::storage {

Status MemorySegmentStore::PutCandidate(const CandidateRecord& record, std::string_view body) {
  auto shared = std::make_shared<const std::string>(body);
  std::lock_guard lock(mu_);
  candidates_[keys::CandidateKey(record.id)] = Entry{record, std::move(shared)};
  return Status::Ok();
}

Result<Body> MemorySegmentStore::GetBody(const CandidateId& id) {
  std::lock_guard lock(mu_);
  auto it = candidates_.find(keys::CandidateKey(id));
  if (it == candidates_.end()) return Status::NotFound("no such candidate");
  return it->second.body;
}

Result<CandidateRecord> MemorySegmentStore::GetCandidate(const CandidateId& id) {
  std::lock_guard lock(mu_);
  auto it = candidates_.find(keys::CandidateKey(id));
  if (it == candidates_.end()) return Status::NotFound("no such candidate");
  return it->second.record;
}

Status MemorySegmentStore::ForEachCandidate(const std::function<void(CandidateRecord&&)>& fn) {
  std::vector<CandidateRecord> copy;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, entry] : candidates_) copy.push_back(entry.record);
  }
  for (auto& r : copy) fn(std::move(r));
  return Status::Ok();
}

Status MemorySegmentStore::PutSelection(const SelectionRecord& selection) {
  std::lock_guard lock(mu_);
  selections_[keys::SelectionKey(selection.event, selection.rendition, selection.number)] =
      selection;
  return Status::Ok();
}

Result<SelectionRecord> MemorySegmentStore::ProposeSelection(const SelectionRecord& proposed) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = selections_.try_emplace(
      keys::SelectionKey(proposed.event, proposed.rendition, proposed.number), proposed);
  return it->second;
}

Status MemorySegmentStore::ForEachSelection(const std::function<void(SelectionRecord&&)>& fn) {
  std::vector<SelectionRecord> copy;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, s] : selections_) copy.push_back(s);
  }
  for (auto& s : copy) fn(std::move(s));
  return Status::Ok();
}

Status MemorySegmentStore::ApplyOperatorChange(const OperatorChange& change) {
  std::lock_guard lock(mu_);
  if (change.pipeline) {
    pipeline_controls_[keys::PipelineControlKey(change.pipeline->event,
                                                change.pipeline->pipeline)] = *change.pipeline;
  }
  if (change.forced) forced_[keys::ForcedKey(*change.forced)] = *change.forced;
  audit_[keys::AuditKey(change.audit)] = change.audit;
  return Status::Ok();
}

namespace {

// Copies the values under the lock, then calls `fn` without it.
template <typename Record>
Status ForEachCopy(std::mutex& mu, const std::map<std::string, Record>& map,
                   const std::function<void(Record&&)>& fn) {
  std::vector<Record> copy;
  {
    std::lock_guard lock(mu);
    for (const auto& [key, r] : map) copy.push_back(r);
  }
  for (auto& r : copy) fn(std::move(r));
  return Status::Ok();
}

}  // namespace

Status MemorySegmentStore::ForEachPipelineControl(
    const std::function<void(PipelineControlRecord&&)>& fn) {
  return ForEachCopy(mu_, pipeline_controls_, fn);
}

Status MemorySegmentStore::ForEachForcedSelection(
    const std::function<void(ForcedSelectionRecord&&)>& fn) {
  return ForEachCopy(mu_, forced_, fn);
}

Status MemorySegmentStore::ForEachAudit(const std::function<void(AuditRecord&&)>& fn) {
  return ForEachCopy(mu_, audit_, fn);
}

Status MemorySegmentStore::DeleteSegmentsBefore(std::string_view event, std::string_view rendition,
                                                uint64_t first_kept) {
  std::lock_guard lock(mu_);
  for (char tag : {'s', 'x', 'f'}) {
    const std::string begin = keys::SegmentKey(tag, event, rendition, 0);
    const std::string end = keys::SegmentKey(tag, event, rendition, first_kept);
    if (tag == 's') {
      candidates_.erase(candidates_.lower_bound(begin), candidates_.lower_bound(end));
    } else if (tag == 'x') {
      selections_.erase(selections_.lower_bound(begin), selections_.lower_bound(end));
    } else {
      forced_.erase(forced_.lower_bound(begin), forced_.lower_bound(end));
    }
  }
  return Status::Ok();
}

Status MemorySegmentStore::DeleteObject(std::string_view event, std::string_view path) {
  std::lock_guard lock(mu_);
  const std::string prefix = keys::ObjectPrefix(event, path);
  auto it = candidates_.lower_bound(prefix);
  while (it != candidates_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    it = candidates_.erase(it);
  }
  forced_.erase(keys::ForcedObjectKey(event, path));
  return Status::Ok();
}

size_t MemorySegmentStore::CandidateCount() const {
  std::lock_guard lock(mu_);
  return candidates_.size();
}

}  // namespace liveorigin::storage
