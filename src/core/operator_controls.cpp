#include "liveorigin/core/operator_controls.h"

#include <chrono>

namespace liveorigin::core {

using storage::AuditRecord;
using storage::ForcedSelectionRecord;
using storage::PipelineControlRecord;

OperatorControls::OperatorControls(std::shared_ptr<storage::SegmentStore> store, std::string node)
    : store_(std::move(store)), node_(std::move(node)) {
  // Audit keys carry (ms, node, sequence): start the sequence where a previous
  // run of this node cannot have been within the same millisecond.
  sequence_ = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

Status OperatorControls::Restore() {
  std::map<std::string, EventControlState, std::less<>> states;
  std::map<std::string, std::deque<AuditRecord>, std::less<>> audits;
  Status st = store_->ForEachPipelineControl([&](PipelineControlRecord&& r) {
    if (r.disabled) states[r.event].disabled.insert(r.pipeline);
  });
  if (!st.ok()) return st;
  st = store_->ForEachForcedSelection([&](ForcedSelectionRecord&& r) {
    const std::string event = r.event, path = r.path;
    states[event].forced[path] = std::move(r);
  });
  if (!st.ok()) return st;
  st = store_->ForEachAudit([&](AuditRecord&& r) {
    auto& list = audits[r.event];
    list.push_back(std::move(r));
    if (list.size() > kAuditKeptPerEvent) list.pop_front();
  });
  if (!st.ok()) return st;

  MutexLock lock(mu_);
  // An event whose controls were all lifted (by another node sharing the
  // store) gets an empty state with a new version, so Publish replaces the
  // old one.
  for (const auto& [event, entry] : events_) {
    if (entry.state && !states.count(event)) states[event];
  }
  events_.clear();
  for (auto& [event, state] : states) {
    state.version = ++version_;
    events_[event].state = std::make_shared<const EventControlState>(std::move(state));
  }
  for (auto& [event, list] : audits) events_[event].audit = std::move(list);
  return Status::Ok();
}

void OperatorControls::Publish(EventRegistry& registry) const {
  MutexLock lock(mu_);
  for (const auto& [id, entry] : events_) {
    if (!entry.state) continue;
    if (auto event = registry.Find(id)) event->SetControls(entry.state);
  }
}

void OperatorControls::Publish(EventRegistry& registry, std::string_view event) const {
  auto live = registry.Find(event);
  if (live) live->SetControls(StateOf(event));
}

std::shared_ptr<const EventControlState> OperatorControls::StateOf(std::string_view event) const {
  MutexLock lock(mu_);
  auto it = events_.find(event);
  if (it != events_.end() && it->second.state) return it->second.state;
  static const auto kEmpty = std::make_shared<const EventControlState>();
  return kEmpty;
}

EventControlState OperatorControls::CopyStateLocked(std::string_view event) const {
  auto it = events_.find(event);
  if (it == events_.end() || !it->second.state) return EventControlState{};
  return *it->second.state;
}

void OperatorControls::CommitLocked(std::string_view event, EventControlState state,
                                    const AuditRecord* audit) {
  state.version = ++version_;
  auto it = events_.find(event);
  if (it == events_.end()) it = events_.emplace(std::string(event), EventEntry{}).first;
  it->second.state = std::make_shared<const EventControlState>(std::move(state));
  if (audit) {
    it->second.audit.push_back(*audit);
    if (it->second.audit.size() > kAuditKeptPerEvent) it->second.audit.pop_front();
  }
}

AuditRecord OperatorControls::NewAudit(std::string_view event, std::string action,
                                       const Actor& actor, TimePoint now) {
  AuditRecord a;
  a.event = std::string(event);
  a.sequence = ++sequence_;
  a.action = std::move(action);
  a.actor.at_unix_ms = ToUnixMillis(now);
  a.actor.node = node_;
  a.actor.remote = actor.remote;
  a.actor.token_id = actor.token_id;
  return a;
}

Status OperatorControls::SetPipelineDisabled(std::string_view event, std::string_view pipeline,
                                             bool disabled, const Actor& actor, TimePoint now,
                                             bool* changed) {
  MutexLock lock(mu_);
  EventControlState next = CopyStateLocked(event);
  *changed = next.IsDisabled(pipeline) != disabled;
  if (!*changed) return Status::Ok();

  storage::OperatorChange change;
  change.audit = NewAudit(event, disabled ? "disable" : "enable", actor, now);
  change.audit.pipeline = std::string(pipeline);
  PipelineControlRecord record;
  record.event = std::string(event);
  record.pipeline = std::string(pipeline);
  record.disabled = disabled;
  record.changed = change.audit.actor;
  change.pipeline = record;
  if (Status st = store_->ApplyOperatorChange(change); !st.ok()) {
    *changed = false;
    return st;
  }
  if (disabled) {
    next.disabled.insert(std::string(pipeline));
  } else {
    next.disabled.erase(next.disabled.find(pipeline));
  }
  CommitLocked(event, std::move(next), &change.audit);
  return Status::Ok();
}

Status OperatorControls::Force(ForcedSelectionRecord record, const Actor& actor, TimePoint now,
                               bool* changed) {
  MutexLock lock(mu_);
  EventControlState next = CopyStateLocked(record.event);
  const ForcedSelectionRecord* current = next.ForcedFor(record.path);
  *changed = !current || current->pipeline != record.pipeline || current->etag != record.etag;
  if (!*changed) return Status::Ok();

  storage::OperatorChange change;
  change.audit = NewAudit(record.event, "select", actor, now);
  change.audit.pipeline = record.pipeline;
  change.audit.path = record.path;
  change.audit.old_etag = record.previous_etag;
  change.audit.new_etag = record.etag;
  record.changed = change.audit.actor;
  change.forced = record;
  if (Status st = store_->ApplyOperatorChange(change); !st.ok()) {
    *changed = false;
    return st;
  }
  const std::string event = record.event, path = record.path;
  next.forced[path] = std::move(record);
  CommitLocked(event, std::move(next), &change.audit);
  return Status::Ok();
}

std::vector<AuditRecord> OperatorControls::RecentAudit(std::string_view event, size_t max) const {
  MutexLock lock(mu_);
  auto it = events_.find(event);
  if (it == events_.end()) return {};
  const auto& list = it->second.audit;
  const size_t first = list.size() > max ? list.size() - max : 0;
  return std::vector<AuditRecord>(list.begin() + static_cast<std::ptrdiff_t>(first), list.end());
}

bool OperatorControls::ForgetSegmentsBefore(std::string_view event, std::string_view rendition,
                                            uint64_t first_kept) {
  MutexLock lock(mu_);
  auto it = events_.find(event);
  if (it == events_.end() || !it->second.state || it->second.state->forced.empty()) return false;
  EventControlState next = *it->second.state;
  size_t erased = 0;
  for (auto f = next.forced.begin(); f != next.forced.end();) {
    if (f->second.number && f->second.rendition == rendition && *f->second.number < first_kept) {
      f = next.forced.erase(f);
      ++erased;
    } else {
      ++f;
    }
  }
  if (erased) CommitLocked(event, std::move(next), nullptr);
  return erased > 0;
}

bool OperatorControls::ForgetObject(std::string_view event, std::string_view path) {
  MutexLock lock(mu_);
  auto it = events_.find(event);
  if (it == events_.end() || !it->second.state || !it->second.state->ForcedFor(path)) return false;
  EventControlState next = *it->second.state;
  next.forced.erase(next.forced.find(path));
  CommitLocked(event, std::move(next), nullptr);
  return true;
}

}  // namespace liveorigin::core
