#include "liveorigin/core/live_event.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "liveorigin/common/bytes.h"
#include "liveorigin/core/cmsd.h"
#include "liveorigin/core/content_type.h"
#include "liveorigin/core/defects.h"
#include "liveorigin/core/follow_selector.h"
#include "liveorigin/core/hls_playlist.h"
#include "liveorigin/core/live_timeline.h"
#include "liveorigin/core/log_limiter.h"
#include "liveorigin/core/media_inspector.h"

namespace liveorigin::core {

using storage::CandidateId;
using storage::CandidateRecord;
using storage::ObjectKind;

namespace {

// Object waiters share the wait list with segment waiters under a key no
// rendition can have (request paths never contain NUL).
std::string ObjectWaitKey(const std::string& path) { return std::string(1, '\0') + path; }

// Uploads in progress and their waiters: segments by (rendition, number),
// other objects (LL-HLS parts) by their path.
std::pair<std::string, uint64_t> LiveKeyOf(const ObjectAddress& address) {
  if (address.number) return {address.rendition, *address.number};
  return {ObjectWaitKey(address.path), 0};
}

}  // namespace

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

  std::optional<std::vector<std::string>> hints;
  if (address.kind == ObjectKind::kOther && address.path.size() > 5 &&
      address.path.compare(address.path.size() - 5, 5, ".m3u8") == 0) {
    hints = PreloadHintPaths(*body, rec.id.event, address.path);
  }
  result.status = store_->PutCandidate(rec, *body);

  std::vector<PipelineAlignment> misaligned;
  std::optional<storage::SelectionRecord> adopted;
  {
    MutexLock lock(mu_);
    if (result.status.ok()) {
      misaligned = state_.Commit(rec, parsed_init, now);
      if (hints) {
        const std::pair<std::string, std::string> key{address.path, pipeline};
        if (hints->empty()) {
          hints_.erase(key);
        } else if (hints_.count(key) || hints_.size() < kMaxHintedPlaylists) {
          hints_[key] = std::move(*hints);
        }
      }
      if (meta.was_live && address.number) {
        auto seg = live_.find({address.rendition, *address.number});
        if (seg != live_.end() && seg->second.followed == pipeline) {
          adopted = state_.AdoptFollowed(address, pipeline);
        }
      }
    } else {
      state_.Abandon(address, pipeline);
    }
    // Wake held GETs either way: on failure they go back to the old candidate.
    if (address.number) {
      *to_wake = waiters_.Take(address.rendition, *address.number);
    } else {
      *to_wake = waiters_.Take(ObjectWaitKey(address.path), 0);
    }
  }
  for (const auto& a : misaligned) {
    spdlog::warn("event {}: pipelines {} and {} are misaligned at {} segment {}: offset {:.3f}s",
                 rec.id.event, a.first, a.second, rec.id.rendition, a.number, a.offset_seconds);
  }
  if (adopted) {
    std::vector<WaitList::Wake> more;
    (void)PersistSticky(*adopted, &more);  // logs a failure; GETs retry the write
    for (auto& w : more) to_wake->push_back(std::move(w));
  }
  return result;
}

uint64_t LiveEvent::AddLiveUpload(const ObjectAddress& address, const std::string& pipeline,
                                  std::shared_ptr<LiveBody> body, std::string content_type,
                                  std::vector<std::string> header_defects) {
  MutexLock lock(mu_);
  if (live_count_ >= kMaxLiveUploads) return 0;
  LiveSegment& seg = live_[LiveKeyOf(address)];
  if (seg.by_pipeline.count(pipeline)) return 0;
  seg.failed.erase(pipeline);
  LiveUpload& u = seg.by_pipeline[pipeline];
  u.id = next_live_id_++;
  u.body = std::move(body);
  u.content_type = std::move(content_type);
  u.defects = std::move(header_defects);
  ++live_count_;
  return u.id;
}

void LiveEvent::LiveUploadFollowable(const ObjectAddress& address, uint64_t id,
                                     std::string_view prefix, TimePoint now,
                                     std::vector<WaitList::Wake>* to_wake) {
  const LiveKey key = LiveKeyOf(address);
  std::string pipeline;
  std::optional<media::InitSegmentInfo> init;
  {
    MutexLock lock(mu_);
    auto seg = live_.find(key);
    if (seg == live_.end()) return;
    for (const auto& [p, u] : seg->second.by_pipeline) {
      if (u.id == id) pipeline = p;
    }
    if (pipeline.empty()) return;
    init = state_.InitInfo(address.rendition, pipeline);
  }
  // The first fragment's timing, parsed without the lock.
  CandidateRecord rec;
  rec.kind = ObjectKind::kSegment;
  rec.id.path = address.path;
  rec.id.rendition = address.rendition;
  rec.id.number = address.number;
  rec.id.pipeline = pipeline;
  const auto parsed = media::ParseMediaSegment(
      {reinterpret_cast<const uint8_t*>(prefix.data()), prefix.size()}, init ? &*init : nullptr);
  for (const auto& t : parsed.info.tracks) {
    storage::TrackTiming tt;
    tt.track_id = t.track_id;
    tt.base_decode_time = t.base_decode_time;
    tt.duration = t.duration;
    tt.sample_count = t.sample_count;
    tt.max_sample_duration = t.max_sample_duration;
    if (init) {
      if (const auto* it = init->FindTrack(t.track_id)) tt.timescale = it->timescale;
    }
    rec.tracks.push_back(tt);
  }
  if (parsed.info.slate) rec.origin_defects.emplace_back(defect::kSlate);
  MutexLock lock(mu_);
  auto seg = live_.find(key);
  if (seg == live_.end()) return;
  auto u = seg->second.by_pipeline.find(pipeline);
  if (u == seg->second.by_pipeline.end() || u->second.id != id) return;
  if (address.number) state_.CheckContinuity(&rec, now);
  for (auto& d : rec.origin_defects) {
    if (std::find(u->second.defects.begin(), u->second.defects.end(), d) ==
        u->second.defects.end()) {
      u->second.defects.push_back(std::move(d));
    }
  }
  u->second.followable = true;
  *to_wake = waiters_.Take(key.first, key.second);
}

void LiveEvent::RemoveLiveUpload(const ObjectAddress& address, uint64_t id, bool failed,
                                 std::vector<WaitList::Wake>* to_wake) {
  const LiveKey key = LiveKeyOf(address);
  MutexLock lock(mu_);
  auto seg = live_.find(key);
  if (seg == live_.end()) return;
  auto& uploads = seg->second.by_pipeline;
  for (auto u = uploads.begin(); u != uploads.end(); ++u) {
    if (u->second.id != id) continue;
    if (seg->second.followed == u->first) seg->second.followed.reset();
    if (failed) seg->second.failed.insert(u->first);
    uploads.erase(u);
    --live_count_;
    break;
  }
  if (uploads.empty()) live_.erase(seg);
  *to_wake = waiters_.Take(key.first, key.second);
}

FollowDecision LiveEvent::Follow(const ObjectAddress& address, TimePoint now, bool chosen_only) {
  FollowDecision out;
  MutexLock lock(mu_);
  auto seg = live_.find(LiveKeyOf(address));
  if (seg == live_.end() || (chosen_only && !seg->second.followed)) return out;
  const auto& cfg = *state_.config();
  std::vector<std::string> order;
  FollowInput in;
  in.pipelines = state_.PipelineViews(address.path, now, &order);
  for (size_t i = 0; i < order.size(); ++i) {
    if (seg->second.failed.count(order[i])) in.pipelines[i].healthy = false;  // not waited for
    auto u = seg->second.by_pipeline.find(order[i]);
    if (u == seg->second.by_pipeline.end() || !u->second.followable ||
        u->second.body->state() == LiveBody::State::kFailed) {
      continue;
    }
    in.pipelines[i].candidate = CandidateView{u->second.defects};
    if (seg->second.followed == order[i]) in.chosen = i;
  }
  in.now = now;
  // Objects (LL-HLS parts) have no timeline slot: no grace, the best upload.
  in.segment_start =
      address.number ? LiveTimeline(cfg).AvailabilityTime(*address.number) - cfg.segment_duration
                     : now - cfg.preferred_grace;
  in.preferred_grace = cfg.preferred_grace;
  const Selection sel = SelectFollow(in);
  out.outcome = sel.outcome;
  out.wait_until = sel.wait_until;
  if (sel.outcome != Selection::Outcome::kServe) return out;
  const LiveUpload& u = seg->second.by_pipeline.at(order[sel.pipeline]);
  seg->second.followed = order[sel.pipeline];
  out.body = u.body;
  out.pipeline = order[sel.pipeline];
  out.content_type = u.content_type;
  return out;
}

uint64_t LiveEvent::AddObjectWaiter(const std::string& path, WaitList::Wake wake) {
  MutexLock lock(mu_);
  return waiters_.Add(ObjectWaitKey(path), 0, std::move(wake));
}

void LiveEvent::RemoveObjectWaiter(const std::string& path, uint64_t id) {
  MutexLock lock(mu_);
  waiters_.Remove(ObjectWaitKey(path), 0, id);
}

bool LiveEvent::IsPreloadHint(const std::string& path) const {
  MutexLock lock(mu_);
  for (const auto& [key, paths] : hints_) {
    if (std::find(paths.begin(), paths.end(), path) != paths.end()) return true;
  }
  return false;
}

size_t LiveEvent::live_uploads() const {
  MutexLock lock(mu_);
  return live_count_;
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
