#include "liveorigin/core/live_event.h"

#include <spdlog/spdlog.h>

#include "liveorigin/common/bytes.h"
#include "liveorigin/core/cmsd.h"
#include "liveorigin/core/content_type.h"
#include "liveorigin/core/defects.h"
#include "liveorigin/core/log_limiter.h"
#include "liveorigin/core/media_inspector.h"

namespace liveorigin::core {

using storage::CandidateId;
using storage::CandidateRecord;
using storage::ObjectKind;

LiveEvent::LiveEvent(std::shared_ptr<const config::EventConfig> config,
                     std::shared_ptr<storage::SegmentStore> store)
    : store_(std::move(store)), state_(std::move(config)) {}

std::shared_ptr<const config::EventConfig> LiveEvent::config() const {
  MutexLock lock(mu_);
  return state_.config();
}

void LiveEvent::UpdateConfig(std::shared_ptr<const config::EventConfig> config) {
  MutexLock lock(mu_);
  state_.SetConfig(std::move(config));
}

void LiveEvent::SetControls(std::shared_ptr<const EventControlState> state) {
  MutexLock lock(mu_);
  state_.SetControls(std::move(state));
}

std::optional<ObjectAddress> LiveEvent::Classify(std::string_view path) const {
  return ClassifyPath(*config(), path);
}

IngestResult LiveEvent::Ingest(const ObjectAddress& address, const std::string& pipeline,
                               const Body& body, std::vector<std::string> header_defects,
                               std::string_view put_content_type, TimePoint now,
                               std::vector<WaitList::Wake>* to_wake, const IngestMeta& meta) {
  IngestResult result;
  CandidateRecord& rec = result.record;
  rec.id.path = address.path;
  rec.id.rendition = address.rendition;
  rec.id.number = address.number;
  rec.id.pipeline = pipeline;
  rec.kind = address.kind;
  rec.content_type = ContentTypeFor(address.path, put_content_type);
  rec.size = body->size();
  rec.etag = ContentHash(*body);
  rec.ingest_unix_ms = ToUnixMillis(now);
  rec.first_byte_unix_ms = ToUnixMillis(meta.first_byte.value_or(now));
  rec.sha256 = meta.sha256;
  rec.header_defects = std::move(header_defects);

  IngestPlan plan;
  {
    MutexLock lock(mu_);
    rec.id.event = state_.config()->id;
    plan = state_.PlanIngest(address, pipeline, rec.etag, rec.header_defects, now);
  }
  switch (plan.kind) {
    case IngestPlan::Kind::kIdentical:
      result.outcome = IngestOutcome::kIdentical;
      result.record = std::move(plan.existing);
      return result;
    case IngestPlan::Kind::kConflict:
      result.outcome = IngestOutcome::kConflict;
      result.record = std::move(plan.existing);
      return result;
    case IngestPlan::Kind::kReplace:
      result.outcome = IngestOutcome::kReplaced;
      break;
    case IngestPlan::Kind::kCreate:
      result.outcome = IngestOutcome::kCreated;
      break;
  }

  // Inspection reads only the body and a copy of the init: no lock.
  std::optional<media::InitSegmentInfo> parsed_init;
  if (address.kind == ObjectKind::kInit) {
    parsed_init = InspectInit(*body, &rec);
  } else if (address.kind == ObjectKind::kSegment) {
    InspectSegment(*body, SegmentContext{plan.segment_duration, plan.init ? &*plan.init : nullptr},
                   &rec);
    rec.object_type = MediaObjectType(rec, plan.init ? &*plan.init : nullptr);  // CMSD `ot`
    MutexLock lock(mu_);
    state_.CheckContinuity(&rec, now);
  }

  result.status = store_->PutCandidate(rec, *body);

  std::vector<PipelineAlignment> misaligned;
  {
    MutexLock lock(mu_);
    if (result.status.ok()) {
      misaligned = state_.Commit(rec, parsed_init, now);
    } else {
      state_.Abandon(address, pipeline);
    }
    // Wake held GETs either way: on failure they go back to the old candidate.
    if (address.number) *to_wake = waiters_.Take(address.rendition, *address.number);
  }
  for (const auto& a : misaligned) {
    spdlog::warn("event {}: pipelines {} and {} are misaligned at {} segment {}: offset {:.3f}s",
                 rec.id.event, a.first, a.second, rec.id.rendition, a.number, a.offset_seconds);
  }
  return result;
}

Decision LiveEvent::Resolve(const ObjectAddress& address, TimePoint now) {
  Decision d;
  {
    MutexLock lock(mu_);
    d = state_.Resolve(address, now);
  }
  if (d.failover) LogFailover(address, d);
  return d;
}

void LiveEvent::LogFailover(const ObjectAddress& address, const Decision& d) {
  // Changes of the serving pipeline per rendition, not every segment.
  static LogLimiter failover_limiter(3, std::chrono::seconds(60));
  const auto& f = *d.failover;
  const std::string event = d.record.id.event;
  uint64_t suppressed = 0;
  if (!failover_limiter.Allow(event + "|" + address.rendition, &suppressed)) return;
  if (f.chosen == f.preferred) {
    if (!f.previous.empty()) {
      spdlog::info("event {}: rendition {} is served from {} again (from segment {})", event,
                   address.rendition, f.chosen, *address.number);
    }
    return;
  }
  const auto defects = d.record.AllDefects();
  spdlog::warn(
      "event {}: failover: rendition {} served from {} instead of {} from segment {} ({}: {}){}",
      event, address.rendition, f.chosen, f.preferred, *address.number, f.preferred,
      f.preferred_state,
      defects.empty() ? "" : "; served candidate has defects: " + JoinDefects(defects));
}

Status LiveEvent::PersistSticky(const storage::SelectionRecord& selection,
                                std::vector<WaitList::Wake>* to_wake,
                                storage::CandidateRecord* serve) {
  auto winner = store_->ProposeSelection(selection);
  Status st = winner.status();
  std::optional<CandidateRecord> chosen;
  if (st.ok()) {
    MutexLock lock(mu_);
    chosen = state_.StickyPersisted(selection, *winner, true);
  }
  if (st.ok() && !chosen) {
    // Another node decided first with a candidate not known here yet.
    CandidateId id;
    id.event = winner->event;
    id.rendition = winner->rendition;
    id.number = winner->number;
    id.pipeline = winner->pipeline;
    id.path = config()->media_template.Format(winner->rendition, winner->number);
    auto record = store_->GetCandidate(id);
    if (record.ok()) {
      MutexLock lock(mu_);
      state_.Learn(*record, std::nullopt);
      chosen = state_.StickyPersisted(selection, *winner, true);
    }
    if (!chosen) {
      st = record.ok() ? Status::Unavailable("the winning candidate " + winner->pipeline +
                                             " changed while it was read")
                       : record.status();
    }
  }
  {
    MutexLock lock(mu_);
    if (!st.ok()) state_.StickyPersisted(selection, false);
    *to_wake = waiters_.Take(selection.rendition, selection.number);
  }
  if (st.ok() && serve) *serve = std::move(*chosen);
  if (!st.ok()) {
    spdlog::error(
        "event {}: cannot persist the sticky selection of {} segment {} (served with a short "
        "lifetime; retried on the next GET): {}",
        selection.event, selection.rendition, selection.number, st.ToString());
  }
  return st;
}

bool LiveEvent::Learn(const CandidateRecord& record, const Body& init_body,
                      std::vector<WaitList::Wake>* to_wake) {
  std::optional<media::InitSegmentInfo> init;
  if (record.kind == ObjectKind::kInit && init_body) {
    init = media::ParseInitSegment(
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(init_body->data()),
                                        init_body->size()))
               .info;
  }
  MutexLock lock(mu_);
  if (!state_.Learn(record, init)) return false;
  if (record.id.number) *to_wake = waiters_.Take(record.id.rendition, *record.id.number);
  return true;
}

void LiveEvent::RecheckStore(const ObjectAddress& address, TimePoint now, Millis period,
                             std::vector<WaitList::Wake>* to_wake) {
  if (!address.number) return;
  std::vector<std::pair<CandidateId, std::optional<std::string>>> ids;
  {
    MutexLock lock(mu_);
    const auto key = std::make_pair(address.rendition, *address.number);
    auto it = rechecked_.find(key);
    if (it != rechecked_.end() && now - it->second < period) return;
    if (rechecked_.size() >= 4096) {
      std::erase_if(rechecked_,
                    [&](const auto& e) { return now - e.second > std::chrono::minutes(1); });
    }
    if (rechecked_.size() >= 4096) return;  // a minute's worth of rechecks: skip this one
    rechecked_[key] = now;
    for (const auto& p : state_.config()->pipelines) {
      CandidateId id;
      id.event = state_.config()->id;
      id.path = address.path;
      id.rendition = address.rendition;
      id.number = address.number;
      id.pipeline = p.id;
      auto known = state_.KnownEtag(id);
      ids.emplace_back(std::move(id), std::move(known));
    }
  }
  for (const auto& [id, known] : ids) {
    auto record = store_->GetCandidate(id);
    if (!record.ok() || (known && *known == record->etag)) continue;
    std::vector<WaitList::Wake> wake;
    if (Learn(*record, Body(), &wake)) {
      for (auto& w : wake) to_wake->push_back(std::move(w));
    }
  }
}

bool LiveEvent::RecheckDue(const ObjectAddress& address, TimePoint now, Millis period) const {
  if (!address.number) return false;
  MutexLock lock(mu_);
  auto it = rechecked_.find(std::make_pair(address.rendition, *address.number));
  return it == rechecked_.end() || now - it->second >= period;
}

bool LiveEvent::HasAnyCandidate(const ObjectAddress& address) const {
  MutexLock lock(mu_);
  return state_.HasAnyCandidate(address);
}

bool LiveEvent::PipelineHealthy(const std::string& pipeline, TimePoint now) const {
  MutexLock lock(mu_);
  return state_.PipelineHealthy(pipeline, now);
}

uint64_t LiveEvent::AddWaiter(const std::string& rendition, uint64_t number, WaitList::Wake wake) {
  MutexLock lock(mu_);
  return waiters_.Add(rendition, number, std::move(wake));
}

void LiveEvent::RemoveWaiter(const std::string& rendition, uint64_t number, uint64_t id) {
  MutexLock lock(mu_);
  waiters_.Remove(rendition, number, id);
}

size_t LiveEvent::waiting() const {
  MutexLock lock(mu_);
  return waiters_.size();
}

void LiveEvent::Restore(CandidateRecord record, const Body& init_body) {
  std::optional<media::InitSegmentInfo> init;
  if (record.kind == ObjectKind::kInit && init_body) {
    init = media::ParseInitSegment(
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(init_body->data()),
                                        init_body->size()))
               .info;
  }
  MutexLock lock(mu_);
  state_.Restore(std::move(record), init);
}

void LiveEvent::RestoreSelection(const storage::SelectionRecord& selection) {
  MutexLock lock(mu_);
  state_.RestoreSelection(selection);
}

std::vector<std::string> LiveEvent::ForgetSegmentsBefore(uint64_t first_kept, size_t min_batch) {
  MutexLock lock(mu_);
  return state_.ForgetSegmentsBefore(first_kept, min_batch);
}

std::vector<std::string> LiveEvent::ForgetObjectsOlderThan(TimePoint cutoff, bool include_init) {
  MutexLock lock(mu_);
  return state_.ForgetObjectsOlderThan(cutoff, include_init);
}

EventView LiveEvent::View(TimePoint now) const {
  MutexLock lock(mu_);
  return state_.View(now);
}

ObjectView LiveEvent::ViewObject(const ObjectAddress& address, TimePoint now) const {
  MutexLock lock(mu_);
  return state_.ViewObject(address, now);
}

std::map<std::string, PipelineStats> LiveEvent::PipelineSnapshot() const {
  MutexLock lock(mu_);
  return state_.pipelines();
}

}  // namespace liveorigin::core
