#include "liveorigin/core/event_state.h"

#include <algorithm>
#include <cmath>

#include "liveorigin/core/defects.h"
#include "liveorigin/core/live_timeline.h"
#include "liveorigin/core/media_inspector.h"

namespace liveorigin::core {

using storage::CandidateRecord;
using storage::ObjectKind;

namespace {

double Seconds(TimePoint::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::optional<ObjectAddress> ClassifyPath(const config::EventConfig& cfg, std::string_view path) {
  ObjectAddress a;
  a.path = std::string(path);
  if (auto m = cfg.media_template.Matches(path); m && m->number) {
    if (cfg.media_template.Format(m->representation_id, *m->number) != path) return std::nullopt;
    a.kind = ObjectKind::kSegment;
    a.rendition = std::move(m->representation_id);
    a.number = m->number;
    return a;
  }
  if (!cfg.init_template.empty()) {
    if (auto m = cfg.init_template.Matches(path)) {
      a.kind = ObjectKind::kInit;
      a.rendition = std::move(m->representation_id);
      return a;
    }
  }
  a.kind = ObjectKind::kOther;
  return a;
}

EventState::EventState(std::shared_ptr<const config::EventConfig> config)
    : config_(std::move(config)) {}

void EventState::SetControls(std::shared_ptr<const EventControlState> state) {
  if (!controls_ || (state && state->version >= controls_->version)) controls_ = std::move(state);
}

bool EventState::Healthy(const std::string& pipeline, TimePoint now) const {
  auto it = pipelines_.find(pipeline);
  if (it == pipelines_.end() || !it->second.ever_put_segment) return false;
  return now - it->second.last_segment_put <= 2 * config_->segment_duration;
}

bool EventState::PipelineHealthy(const std::string& pipeline, TimePoint now) const {
  return Healthy(pipeline, now);
}

std::vector<std::string> EventState::PipelineOrder(const Candidates& present) const {
  std::vector<std::string> order;
  for (const auto& p : config_->pipelines) order.push_back(p.id);
  // Pipelines removed from the configuration keep their stored candidates, at the
  // lowest priority, so a reload never makes delivered media vanish.
  for (const auto& [id, rec] : present) {
    if (std::find(order.begin(), order.end(), id) == order.end()) order.push_back(id);
  }
  return order;
}

Selection EventState::SelectInSlot(const SegmentSlot& slot, uint64_t number, TimePoint now,
                                   std::vector<std::string>* order) const {
  *order = PipelineOrder(slot.candidates);
  SegmentSelectionInput in;
  in.now = now;
  in.availability_time = LiveTimeline(*config_).AvailabilityTime(number);
  in.preferred_grace = config_->preferred_grace;
  for (size_t i = 0; i < order->size(); ++i) {
    PipelineView v;
    v.healthy = Healthy((*order)[i], now);
    auto it = slot.candidates.find((*order)[i]);
    if (it != slot.candidates.end()) v.candidate = CandidateView{it->second.AllDefects()};
    if (slot.sticky && *slot.sticky == (*order)[i]) in.sticky = i;
    in.pipelines.push_back(std::move(v));
  }
  // Operator controls (SPEC §12): disabled pipelines, forced selection.
  const std::string_view path =
      slot.candidates.empty() ? std::string_view() : slot.candidates.begin()->second.id.path;
  in.forced = ApplyControls(controls_.get(), *order, path, &in.pipelines);
  return SelectSegment(in);
}

Selection EventState::SelectAmong(const Candidates& objects, std::string_view path, TimePoint now,
                                  std::vector<std::string>* order) const {
  *order = PipelineOrder(objects);
  std::vector<PipelineView> views;
  for (const auto& id : *order) {
    PipelineView v;
    v.healthy = Healthy(id, now);
    auto c = objects.find(id);
    if (c != objects.end()) v.candidate = CandidateView{c->second.AllDefects()};
    views.push_back(std::move(v));
  }
  const auto forced = ApplyControls(controls_.get(), *order, path, &views);
  return SelectObject(views, forced);
}

const EventState::SegmentSlot* EventState::FindSlot(const std::string& rendition,
                                                    uint64_t number) const {
  auto r = renditions_.find(rendition);
  if (r == renditions_.end()) return nullptr;
  auto s = r->second.segments.find(number);
  return s == r->second.segments.end() ? nullptr : &s->second;
}

EventState::SegmentSlot* EventState::FindSlot(const std::string& rendition, uint64_t number) {
  return const_cast<SegmentSlot*>(std::as_const(*this).FindSlot(rendition, number));
}

const CandidateRecord* EventState::ViewerPrevious(const std::string& rendition, uint64_t number,
                                                  const std::string& pipeline,
                                                  TimePoint now) const {
  if (number == 0) return nullptr;
  const SegmentSlot* slot = FindSlot(rendition, number - 1);
  if (!slot) return nullptr;
  std::vector<std::string> order;
  const Selection sel = SelectInSlot(*slot, number - 1, now, &order);
  if (sel.outcome == Selection::Outcome::kServe) return &slot->candidates.at(order[sel.pipeline]);
  auto own = slot->candidates.find(pipeline);
  return own == slot->candidates.end() ? nullptr : &own->second;
}

const media::InitSegmentInfo* EventState::InitFor(const std::string& rendition,
                                                  const std::string& pipeline) const {
  auto r = renditions_.find(rendition);
  if (r == renditions_.end() || r->second.init_by_pipeline.empty()) return nullptr;
  auto own = r->second.init_by_pipeline.find(pipeline);
  if (own != r->second.init_by_pipeline.end()) return &own->second;
  return &r->second.init_by_pipeline.begin()->second;  // epoch-locked pipelines share timescales
}

void EventState::NoteCandidate(const CandidateRecord& record, TimePoint when) {
  PipelineStats& st = pipelines_[record.id.pipeline];
  st.last_put = std::max(st.last_put, when);
  ++st.objects;
  if (record.kind == ObjectKind::kSegment) {
    ++st.segments;
    st.ever_put_segment = true;
    if (when >= st.last_segment_put) {
      st.last_segment_put = when;
      st.lateness_seconds =
          Seconds(when - LiveTimeline(*config_).AvailabilityTime(*record.id.number));
    }
    if (!st.last_number || *record.id.number > *st.last_number) st.last_number = record.id.number;
  }
  for (const auto& d : record.AllDefects()) ++st.defects[d];
}

std::vector<PipelineAlignment> EventState::UpdateAlignment(const CandidateRecord& record) {
  std::vector<PipelineAlignment> newly_misaligned;
  const SegmentSlot* slot = FindSlot(record.id.rendition, *record.id.number);
  if (!slot) return newly_misaligned;
  for (const auto& [pipeline, other] : slot->candidates) {
    if (pipeline == record.id.pipeline) continue;
    double one_sample = 0;
    auto offset = TimelineOffsetSeconds(record, other, &one_sample);
    if (!offset) continue;
    auto key = std::minmax(record.id.pipeline, pipeline);
    const double signed_offset = key.first == record.id.pipeline ? *offset : -*offset;
    PipelineAlignment& a = alignment_[{key.first, key.second}];
    const bool aligned = std::fabs(*offset) <= one_sample + 1e-9;
    const bool was_aligned = a.first.empty() || a.aligned;
    a = PipelineAlignment{key.first, key.second, *record.id.number, signed_offset, aligned};
    if (was_aligned && !aligned) newly_misaligned.push_back(a);
  }
  return newly_misaligned;
}

IngestPlan EventState::PlanIngest(const ObjectAddress& address, const std::string& pipeline,
                                  const std::string& etag,
                                  const std::vector<std::string>& header_defects, TimePoint now) {
  IngestPlan plan;
  plan.segment_duration = config_->segment_duration;
  const CandidateRecord* existing = nullptr;
  SegmentSlot* slot = nullptr;
  if (address.number) {
    slot = FindSlot(address.rendition, *address.number);
    if (slot) {
      auto c = slot->candidates.find(pipeline);
      if (c != slot->candidates.end()) existing = &c->second;
    }
    if (const auto* i = InitFor(address.rendition, pipeline)) plan.init = *i;
  } else {
    auto o = objects_.find(address.path);
    if (o != objects_.end()) {
      auto c = o->second.find(pipeline);
      if (c != o->second.end()) existing = &c->second;
    }
  }
  if (!existing) return plan;
  if (existing->etag == etag && existing->header_defects == header_defects) {
    plan.kind = IngestPlan::Kind::kIdentical;
    plan.existing = *existing;
    // A retry still shows the pipeline is alive.
    PipelineStats& st = pipelines_[pipeline];
    st.last_put = std::max(st.last_put, now);
    if (address.number) st.last_segment_put = std::max(st.last_segment_put, now);
    return plan;
  }
  // A forced choice is as fixed as a sticky one (SPEC §12).
  if (slot && (slot->sticky == pipeline || IsForcedTo(controls_.get(), address.path, pipeline))) {
    plan.kind = IngestPlan::Kind::kConflict;
    plan.existing = *existing;
    return plan;
  }
  plan.kind = IngestPlan::Kind::kReplace;
  if (slot) slot->replacing.insert(pipeline);
  return plan;
}

void EventState::CheckContinuity(CandidateRecord* rec, TimePoint now) const {
  if (rec->kind != ObjectKind::kSegment ||
      std::find(rec->origin_defects.begin(), rec->origin_defects.end(), defect::kCorrupt) !=
          rec->origin_defects.end()) {
    return;
  }
  const CandidateRecord* prev =
      ViewerPrevious(rec->id.rendition, *rec->id.number, rec->id.pipeline, now);
  std::string why;
  if (prev && IsDiscontinuous(*prev, *rec, &why)) {
    rec->origin_defects.emplace_back(defect::kTimingDiscontinuity);
    if (!rec->inspection_note.empty()) rec->inspection_note += "; ";
    rec->inspection_note += "timing discontinuity: " + why;
  }
}

std::vector<PipelineAlignment> EventState::Commit(const CandidateRecord& rec,
                                                  const std::optional<media::InitSegmentInfo>& init,
                                                  TimePoint now) {
  std::vector<PipelineAlignment> misaligned;
  const std::string& pipeline = rec.id.pipeline;
  if (rec.id.number) {
    SegmentSlot& slot = renditions_[rec.id.rendition].segments[*rec.id.number];
    slot.replacing.erase(pipeline);
    slot.candidates[pipeline] = rec;
    misaligned = UpdateAlignment(rec);
  } else {
    objects_[rec.id.path][pipeline] = rec;
    if (init) renditions_[rec.id.rendition].init_by_pipeline[pipeline] = *init;
  }
  NoteCandidate(rec, now);
  return misaligned;
}

void EventState::Abandon(const ObjectAddress& address, const std::string& pipeline) {
  if (!address.number) return;
  if (SegmentSlot* slot = FindSlot(address.rendition, *address.number)) {
    slot->replacing.erase(pipeline);
  }
}

Decision EventState::Resolve(const ObjectAddress& address, TimePoint now) {
  Decision res;
  if (!address.number) {
    auto o = objects_.find(address.path);
    if (o == objects_.end()) return res;
    std::vector<std::string> order;
    const Selection sel = SelectAmong(o->second, address.path, now, &order);
    res.outcome = sel.outcome;
    res.reason = sel.reason;
    if (sel.outcome == Selection::Outcome::kServe) res.record = o->second.at(order[sel.pipeline]);
    return res;
  }
  SegmentSlot* slot = FindSlot(address.rendition, *address.number);
  if (!slot) return res;
  std::vector<std::string> order;
  const Selection sel = SelectInSlot(*slot, *address.number, now, &order);
  res.outcome = sel.outcome;
  res.reason = sel.reason;
  res.wait_until = sel.wait_until;
  if (sel.outcome != Selection::Outcome::kServe) return res;
  const std::string& chosen = order[sel.pipeline];
  if (!slot->sticky && slot->replacing.count(chosen)) {
    // New bytes for this candidate are being stored: serving the old ones now
    // could make them sticky. Wait (held) for the replacement; its arrival
    // wakes the waiters.
    res.outcome = Selection::Outcome::kWait;
    res.wait_until = now + Millis(200);
    res.reason = "a replacement of this candidate is being stored";
    return res;
  }
  res.record = slot->candidates.at(chosen);
  const bool clean = res.record.AllDefects().empty();
  if (clean && !slot->sticky) slot->sticky = chosen;
  if (slot->sticky == chosen && !slot->sticky_persisted) {
    if (slot->sticky_persisting) {
      // Another GET is writing the sticky record: its completion wakes this one.
      res.outcome = Selection::Outcome::kWait;
      res.wait_until = now + Millis(200);
      res.reason = "the sticky choice is being made durable";
      return res;
    }
    slot->sticky_persisting = true;
    res.persist = storage::SelectionRecord{config_->id, address.rendition, *address.number, chosen,
                                           res.record.etag};
  }
  if (slot->served != chosen) {
    if (slot->served) --pipelines_[*slot->served].selections;
    ++pipelines_[chosen].selections;
    std::string& last = last_served_[address.rendition];
    if (last != chosen) {
      Decision::Failover f;
      f.previous = last;
      f.chosen = chosen;
      f.preferred = order.front();
      auto pref = slot->candidates.find(order.front());
      f.preferred_state =
          pref == slot->candidates.end()
              ? std::string("missing")
              : (pref->second.AllDefects().empty() ? std::string("not yet selected")
                                                   : JoinDefects(pref->second.AllDefects()));
      res.failover = std::move(f);
    }
    last = chosen;
    slot->served = chosen;
    res.selection_changed = true;
  }
  return res;
}

std::vector<PipelineView> EventState::PipelineViews(std::string_view path, TimePoint now,
                                                    std::vector<std::string>* order) const {
  *order = PipelineOrder({});
  std::vector<PipelineView> views;
  for (const auto& id : *order) {
    PipelineView v;
    v.healthy = Healthy(id, now);
    views.push_back(std::move(v));
  }
  ApplyControls(controls_.get(), *order, path, &views);
  return views;
}

std::optional<media::InitSegmentInfo> EventState::InitInfo(const std::string& rendition,
                                                           const std::string& pipeline) const {
  const auto* init = InitFor(rendition, pipeline);
  if (!init) return std::nullopt;
  return *init;
}

std::optional<storage::SelectionRecord> EventState::AdoptFollowed(const ObjectAddress& address,
                                                                  const std::string& pipeline) {
  if (!address.number) return std::nullopt;
  SegmentSlot* slot = FindSlot(address.rendition, *address.number);
  if (!slot || slot->sticky || slot->replacing.count(pipeline)) return std::nullopt;
  auto c = slot->candidates.find(pipeline);
  if (c == slot->candidates.end() || !c->second.AllDefects().empty()) return std::nullopt;
  slot->sticky = pipeline;
  slot->sticky_persisting = true;
  return storage::SelectionRecord{config_->id, address.rendition, *address.number, pipeline,
                                  c->second.etag};
}

std::optional<CandidateRecord> EventState::StickyPersisted(const storage::SelectionRecord& proposed,
                                                           const storage::SelectionRecord& winner,
                                                           bool ok) {
  SegmentSlot* slot = FindSlot(proposed.rendition, proposed.number);
  if (!slot) return std::nullopt;
  if (!ok) {
    slot->sticky_persisting = false;
    return std::nullopt;
  }
  auto c = slot->candidates.find(winner.pipeline);
  if (c == slot->candidates.end() || c->second.etag != winner.etag) {
    return std::nullopt;  // the winner's candidate is not known here yet
  }
  slot->sticky_persisting = false;
  if (slot->sticky != winner.pipeline) {
    // Another node decided first: its choice is the fleet's (SPEC §10).
    slot->sticky = winner.pipeline;
    if (slot->served != winner.pipeline) {
      if (slot->served) --pipelines_[*slot->served].selections;
      ++pipelines_[winner.pipeline].selections;
      slot->served = winner.pipeline;
    }
    last_served_[proposed.rendition] = winner.pipeline;
  }
  slot->sticky_persisted = true;
  return c->second;
}

bool EventState::Learn(const CandidateRecord& record,
                       const std::optional<media::InitSegmentInfo>& init) {
  const std::string& pipeline = record.id.pipeline;
  const TimePoint when = FromUnixMillis(record.ingest_unix_ms);
  if (record.id.number) {
    SegmentSlot& slot = renditions_[record.id.rendition].segments[*record.id.number];
    auto known = slot.candidates.find(pipeline);
    if (known != slot.candidates.end()) {
      if (known->second.etag == record.etag) return false;
      if (slot.sticky == pipeline) return false;  // served bytes never change
    }
    slot.candidates[pipeline] = record;
    UpdateAlignment(record);
  } else {
    auto& candidates = objects_[record.id.path];
    auto known = candidates.find(pipeline);
    if (known != candidates.end() && known->second.etag == record.etag) return false;
    candidates[pipeline] = record;
    if (init) renditions_[record.id.rendition].init_by_pipeline[pipeline] = *init;
  }
  NoteCandidate(record, when);
  return true;
}

std::optional<std::string> EventState::KnownEtag(const storage::CandidateId& id) const {
  const Candidates* candidates = nullptr;
  if (id.number) {
    const SegmentSlot* slot = FindSlot(id.rendition, *id.number);
    if (slot) candidates = &slot->candidates;
  } else if (auto o = objects_.find(id.path); o != objects_.end()) {
    candidates = &o->second;
  }
  if (!candidates) return std::nullopt;
  auto c = candidates->find(id.pipeline);
  if (c == candidates->end()) return std::nullopt;
  return c->second.etag;
}

bool EventState::HasAnyCandidate(const ObjectAddress& address) const {
  if (address.number) return FindSlot(address.rendition, *address.number) != nullptr;
  return objects_.count(address.path) > 0;
}

void EventState::Restore(CandidateRecord record,
                         const std::optional<media::InitSegmentInfo>& init) {
  const TimePoint when = FromUnixMillis(record.ingest_unix_ms);
  NoteCandidate(record, when);
  const std::string pipeline = record.id.pipeline;
  if (record.id.number) {
    renditions_[record.id.rendition].segments[*record.id.number].candidates[pipeline] =
        std::move(record);
    return;
  }
  if (record.kind == ObjectKind::kInit && init) {
    renditions_[record.id.rendition].init_by_pipeline[pipeline] = *init;
  }
  objects_[record.id.path][pipeline] = std::move(record);
}

void EventState::RestoreSelection(const storage::SelectionRecord& selection) {
  SegmentSlot* slot = FindSlot(selection.rendition, selection.number);
  if (!slot) return;
  auto c = slot->candidates.find(selection.pipeline);
  // A sticky choice only holds while the bytes it promised are still there.
  if (c == slot->candidates.end() || c->second.etag != selection.etag) return;
  slot->sticky = selection.pipeline;
  slot->sticky_persisted = true;
  slot->served = selection.pipeline;
  ++pipelines_[selection.pipeline].selections;
}

std::vector<std::string> EventState::ForgetSegmentsBefore(uint64_t first_kept, size_t min_batch) {
  std::vector<std::string> out;
  for (auto& [id, r] : renditions_) {
    const auto end = r.segments.lower_bound(first_kept);
    size_t aged = 0;
    for (auto it = r.segments.begin(); it != end && aged < min_batch; ++it) ++aged;
    if (aged == 0 || aged < min_batch) continue;  // not enough aged out: no store write yet
    r.segments.erase(r.segments.begin(), end);
    out.push_back(id);
  }
  return out;
}

std::vector<std::string> EventState::ForgetObjectsOlderThan(TimePoint cutoff, bool include_init) {
  std::vector<std::string> out;
  const int64_t cutoff_ms = ToUnixMillis(cutoff);
  for (auto it = objects_.begin(); it != objects_.end();) {
    int64_t newest = 0;
    bool init = false;
    for (const auto& [pipeline, rec] : it->second) {
      newest = std::max(newest, rec.ingest_unix_ms);
      init = init || rec.kind == ObjectKind::kInit;
    }
    if (newest < cutoff_ms && (include_init || !init)) {
      out.push_back(it->first);
      it = objects_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

EventView EventState::View(TimePoint now) const {
  EventView v;
  v.config = config_;
  v.pipelines = pipelines_;
  for (const auto& p : config_->pipelines) v.healthy[p.id] = Healthy(p.id, now);
  for (const auto& [id, st] : pipelines_) v.healthy[id] = Healthy(id, now);
  for (const auto& [key, a] : alignment_) v.alignment.push_back(a);
  for (const auto& [id, r] : renditions_) {
    EventView::RenditionSummary s;
    s.id = id;
    s.segments = r.segments.size();
    if (!r.segments.empty()) {
      s.first = r.segments.begin()->first;
      s.last = r.segments.rbegin()->first;
    }
    v.renditions.push_back(std::move(s));
  }
  return v;
}

ObjectView EventState::ViewObject(const ObjectAddress& address, TimePoint now) const {
  ObjectView v;
  v.address = address;
  const Candidates* candidates = nullptr;
  if (address.number) {
    v.availability_time = LiveTimeline(*config_).AvailabilityTime(*address.number);
    if (const SegmentSlot* slot = FindSlot(address.rendition, *address.number)) {
      candidates = &slot->candidates;
      v.selection = SelectInSlot(*slot, *address.number, now, &v.order);
      v.sticky = slot->sticky;
    }
  } else {
    auto o = objects_.find(address.path);
    if (o != objects_.end()) {
      candidates = &o->second;
      v.selection = SelectAmong(o->second, address.path, now, &v.order);
    }
  }
  if (candidates) {
    for (const auto& id : v.order) {
      auto c = candidates->find(id);
      if (c != candidates->end()) v.candidates.emplace_back(c->second, Healthy(id, now));
    }
  }
  return v;
}

}  // namespace liveorigin::core
