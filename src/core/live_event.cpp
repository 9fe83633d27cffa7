#include "liveorigin/core/live_event.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "liveorigin/common/bytes.h"
#include "liveorigin/common/units.h"
#include "liveorigin/core/cmsd.h"
#include "liveorigin/core/content_type.h"
#include "liveorigin/core/defects.h"
#include "liveorigin/core/log_limiter.h"
#include "liveorigin/core/media_inspector.h"

namespace liveorigin::core {

using nlohmann::json;
using storage::CandidateRecord;
using storage::ObjectKind;

namespace {

double Seconds(TimePoint::duration d) { return std::chrono::duration<double>(d).count(); }

const char* KindName(ObjectKind k) {
  switch (k) {
    case ObjectKind::kSegment:
      return "segment";
    case ObjectKind::kInit:
      return "init";
    case ObjectKind::kOther:
      return "object";
  }
  return "object";
}

const char* OutcomeName(Selection::Outcome o) {
  switch (o) {
    case Selection::Outcome::kServe:
      return "serve";
    case Selection::Outcome::kWait:
      return "wait";
    case Selection::Outcome::kNone:
      return "none";
  }
  return "none";
}

}  // namespace

LiveEvent::LiveEvent(std::shared_ptr<const config::EventConfig> config,
                     std::shared_ptr<storage::SegmentStore> store)
    : store_(std::move(store)), config_(std::move(config)) {}

std::shared_ptr<const config::EventConfig> LiveEvent::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

LiveTimeline LiveEvent::timeline() const { return LiveTimeline(*config()); }

void LiveEvent::UpdateConfig(std::shared_ptr<const config::EventConfig> config) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
}

void LiveEvent::SetControls(std::shared_ptr<const EventControlState> state) {
  std::lock_guard lock(mu_);
  if (!controls_ || (state && state->version >= controls_->version)) controls_ = std::move(state);
}

std::optional<ObjectAddress> LiveEvent::Classify(std::string_view path) const {
  const auto cfg = config();
  ObjectAddress a;
  a.path = std::string(path);
  if (auto m = cfg->media_template.Matches(path); m && m->number) {
    if (cfg->media_template.Format(m->representation_id, *m->number) != path) return std::nullopt;
    a.kind = ObjectKind::kSegment;
    a.rendition = std::move(m->representation_id);
    a.number = m->number;
    return a;
  }
  if (!cfg->init_template.empty()) {
    if (auto m = cfg->init_template.Matches(path)) {
      a.kind = ObjectKind::kInit;
      a.rendition = std::move(m->representation_id);
      return a;
    }
  }
  a.kind = ObjectKind::kOther;
  return a;
}

bool LiveEvent::HealthyLocked(const std::string& pipeline, TimePoint now) const {
  auto it = pipelines_.find(pipeline);
  if (it == pipelines_.end() || !it->second.ever_put_segment) return false;
  return now - it->second.last_segment_put <= 2 * config_->segment_duration;
}

bool LiveEvent::PipelineHealthy(const std::string& pipeline, TimePoint now) const {
  std::lock_guard lock(mu_);
  return HealthyLocked(pipeline, now);
}

std::vector<std::string> LiveEvent::PipelineOrderLocked(
    const SegmentSlot* slot, const std::map<std::string, CandidateRecord>* objects) const {
  std::vector<std::string> order;
  for (const auto& p : config_->pipelines) order.push_back(p.id);
  // Pipelines removed from the configuration keep their stored candidates, at the
  // lowest priority, so a reload never makes delivered media vanish.
  const auto& extra = slot ? slot->candidates : *objects;
  for (const auto& [id, rec] : extra) {
    if (std::find(order.begin(), order.end(), id) == order.end()) order.push_back(id);
  }
  return order;
}

Selection LiveEvent::SelectLocked(const SegmentSlot& slot, uint64_t number, TimePoint now,
                                  std::vector<std::string>* order) const {
  *order = PipelineOrderLocked(&slot, nullptr);
  SegmentSelectionInput in;
  in.now = now;
  in.availability_time = LiveTimeline(*config_).AvailabilityTime(number);
  in.preferred_grace = config_->preferred_grace;
  for (size_t i = 0; i < order->size(); ++i) {
    PipelineView v;
    v.healthy = HealthyLocked((*order)[i], now);
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

const CandidateRecord* LiveEvent::ViewerPreviousLocked(const std::string& rendition,
                                                       uint64_t number, const std::string& pipeline,
                                                       TimePoint now) const {
  if (number == 0) return nullptr;
  auto r = renditions_.find(rendition);
  if (r == renditions_.end()) return nullptr;
  auto s = r->second.segments.find(number - 1);
  if (s == r->second.segments.end()) return nullptr;
  const SegmentSlot& slot = s->second;
  std::vector<std::string> order;
  const Selection sel = SelectLocked(slot, number - 1, now, &order);
  if (sel.outcome == Selection::Outcome::kServe) return &slot.candidates.at(order[sel.pipeline]);
  auto own = slot.candidates.find(pipeline);
  return own == slot.candidates.end() ? nullptr : &own->second;
}

const media::InitSegmentInfo* LiveEvent::InitLocked(const std::string& rendition,
                                                    const std::string& pipeline) const {
  auto r = renditions_.find(rendition);
  if (r == renditions_.end() || r->second.init_by_pipeline.empty()) return nullptr;
  auto own = r->second.init_by_pipeline.find(pipeline);
  if (own != r->second.init_by_pipeline.end()) return &own->second;
  return &r->second.init_by_pipeline.begin()->second;  // epoch-locked pipelines share timescales
}

void LiveEvent::NoteCandidateLocked(const CandidateRecord& record, TimePoint when) {
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

void LiveEvent::UpdateAlignmentLocked(const CandidateRecord& record) {
  auto r = renditions_.find(record.id.rendition);
  if (r == renditions_.end()) return;
  auto s = r->second.segments.find(*record.id.number);
  if (s == r->second.segments.end()) return;
  for (const auto& [pipeline, other] : s->second.candidates) {
    if (pipeline == record.id.pipeline) continue;
    double one_sample = 0;
    auto offset = TimelineOffsetSeconds(record, other, &one_sample);
    if (!offset) continue;
    auto key = std::minmax(record.id.pipeline, pipeline);
    const double signed_offset = key.first == record.id.pipeline ? *offset : -*offset;
    Alignment& a = alignment_[{key.first, key.second}];
    const bool aligned = std::fabs(*offset) <= one_sample + 1e-9;
    if (a.aligned && !aligned) {
      spdlog::warn("event {}: pipelines {} and {} are misaligned at {} segment {}: offset {:.3f}s",
                   record.id.event, key.first, key.second, record.id.rendition, *record.id.number,
                   signed_offset);
    }
    a = Alignment{*record.id.number, signed_offset, aligned};
  }
}

IngestResult LiveEvent::Ingest(const ObjectAddress& address, const std::string& pipeline, Body body,
                               std::vector<std::string> header_defects,
                               std::string_view put_content_type, TimePoint now,
                               const IngestMeta& meta) {
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

  std::optional<media::InitSegmentInfo> init;
  Millis d{0};
  {
    std::lock_guard lock(mu_);
    rec.id.event = config_->id;
    d = config_->segment_duration;
    const CandidateRecord* existing = nullptr;
    bool served_sticky = false;
    if (address.number) {
      auto r = renditions_.find(address.rendition);
      if (r != renditions_.end()) {
        auto s = r->second.segments.find(*address.number);
        if (s != r->second.segments.end()) {
          auto c = s->second.candidates.find(pipeline);
          if (c != s->second.candidates.end()) existing = &c->second;
          // A forced choice is as fixed as a sticky one (SPEC §12).
          served_sticky =
              s->second.sticky == pipeline || IsForcedTo(controls_.get(), address.path, pipeline);
        }
      }
      if (const auto* i = InitLocked(address.rendition, pipeline)) init = *i;
    } else {
      auto o = objects_.find(address.path);
      if (o != objects_.end()) {
        auto c = o->second.find(pipeline);
        if (c != o->second.end()) existing = &c->second;
      }
    }
    if (existing) {
      result.outcome = IngestOutcome::kReplaced;
      if (existing->etag == rec.etag && existing->header_defects == rec.header_defects) {
        result.outcome = IngestOutcome::kIdentical;
        result.record = *existing;
        PipelineStats& st = pipelines_[pipeline];
        st.last_put = std::max(st.last_put, now);
        if (address.number) st.last_segment_put = std::max(st.last_segment_put, now);
        return result;
      }
      if (served_sticky) {
        result.outcome = IngestOutcome::kConflict;
        result.record = *existing;
        return result;
      }
      if (address.number) {
        renditions_[address.rendition].segments[*address.number].replacing.insert(pipeline);
      }
    }
  }

  // Inspection runs without the lock: it reads only the body and a copy of the init.
  std::optional<media::InitSegmentInfo> parsed_init;
  if (address.kind == ObjectKind::kInit) {
    parsed_init = InspectInit(*body, &rec);
  } else if (address.kind == ObjectKind::kSegment) {
    InspectSegment(*body, SegmentContext{d, init ? &*init : nullptr}, &rec);
    rec.object_type = MediaObjectType(rec, init ? &*init : nullptr);  // CMSD `ot`
  }

  if (address.kind == ObjectKind::kSegment &&
      std::find(rec.origin_defects.begin(), rec.origin_defects.end(), defect::kCorrupt) ==
          rec.origin_defects.end()) {
    std::lock_guard lock(mu_);
    const CandidateRecord* prev =
        ViewerPreviousLocked(address.rendition, *address.number, pipeline, now);
    std::string why;
    if (prev && IsDiscontinuous(*prev, rec, &why)) {
      rec.origin_defects.emplace_back(defect::kTimingDiscontinuity);
      if (!rec.inspection_note.empty()) rec.inspection_note += "; ";
      rec.inspection_note += "timing discontinuity: " + why;
    }
  }

  result.status = store_->PutCandidate(rec, *body);

  std::vector<Waiter> to_wake;
  {
    std::lock_guard lock(mu_);
    if (address.number) {
      Rendition& r = renditions_[address.rendition];
      SegmentSlot& slot = r.segments[*address.number];
      slot.replacing.erase(pipeline);
      if (result.status.ok()) {
        slot.candidates[pipeline] = rec;
        UpdateAlignmentLocked(rec);
      }
      // Wake held GETs either way: on failure they go back to the old candidate.
      auto w = waiters_.find({address.rendition, *address.number});
      if (w != waiters_.end()) {
        to_wake = std::move(w->second);
        waiters_.erase(w);
      }
    } else if (result.status.ok()) {
      objects_[address.path][pipeline] = rec;
      if (parsed_init) renditions_[address.rendition].init_by_pipeline[pipeline] = *parsed_init;
    }
    if (result.status.ok()) NoteCandidateLocked(rec, now);
  }
  for (auto& w : to_wake) w.wake();
  return result;
}

Resolution LiveEvent::Resolve(const ObjectAddress& address, TimePoint now) {
  Resolution res;
  std::optional<storage::SelectionRecord> persist;
  {
    std::lock_guard lock(mu_);
    if (address.number) {
      auto r = renditions_.find(address.rendition);
      if (r == renditions_.end()) return res;
      auto s = r->second.segments.find(*address.number);
      if (s == r->second.segments.end()) return res;
      SegmentSlot& slot = s->second;
      std::vector<std::string> order;
      const Selection sel = SelectLocked(slot, *address.number, now, &order);
      res.outcome = sel.outcome;
      res.reason = sel.reason;
      res.wait_until = sel.wait_until;
      if (sel.outcome != Selection::Outcome::kServe) return res;
      const std::string& chosen = order[sel.pipeline];
      if (!slot.sticky && slot.replacing.count(chosen)) {
        // New bytes for this candidate are being stored: serving the old ones now
        // could make them sticky. Wait (held) for the replacement; its arrival
        // wakes the waiters.
        res.outcome = Selection::Outcome::kWait;
        res.wait_until = now + Millis(200);
        res.reason = "a replacement of this candidate is being stored";
        return res;
      }
      res.record = slot.candidates.at(chosen);
      const auto defects = res.record.AllDefects();
      if (defects.empty() && !slot.sticky) slot.sticky = chosen;
      if (slot.sticky == chosen && !slot.sticky_persisted) {
        // Every GET that serves a not-yet-durable sticky choice writes it before
        // answering (idempotent), so no viewer gets bytes a restart could change.
        persist = storage::SelectionRecord{config_->id, address.rendition, *address.number, chosen,
                                           res.record.etag};
      }
      if (slot.served != chosen) {
        if (slot.served) --pipelines_[*slot.served].selections;
        ++pipelines_[chosen].selections;
        // Log changes of the serving pipeline per rendition, not every segment.
        std::string& last = last_served_[address.rendition];
        uint64_t suppressed = 0;
        static LogLimiter failover_limiter(3, std::chrono::seconds(60));
        if (last != chosen &&
            failover_limiter.Allow(config_->id + "|" + address.rendition, &suppressed)) {
          if (chosen == order.front()) {
            if (!last.empty()) {
              spdlog::info("event {}: rendition {} is served from {} again (from segment {})",
                           config_->id, address.rendition, chosen, *address.number);
            }
          } else {
            auto pref = slot.candidates.find(order.front());
            const std::string why =
                pref == slot.candidates.end()
                    ? std::string("missing")
                    : (pref->second.AllDefects().empty() ? std::string("not yet selected")
                                                         : JoinDefects(pref->second.AllDefects()));
            spdlog::warn(
                "event {}: failover: rendition {} served from {} instead of {} from "
                "segment {} ({}: {}){}",
                config_->id, address.rendition, chosen, order.front(), *address.number,
                order.front(), why,
                defects.empty() ? "" : "; served candidate has defects: " + JoinDefects(defects));
          }
        }
        last = chosen;
        slot.served = chosen;
        res.selection_changed = true;
      }
    } else {
      auto o = objects_.find(address.path);
      if (o == objects_.end()) return res;
      const auto order = PipelineOrderLocked(nullptr, &o->second);
      std::vector<PipelineView> views;
      for (const auto& id : order) {
        PipelineView v;
        v.healthy = HealthyLocked(id, now);
        auto c = o->second.find(id);
        if (c != o->second.end()) v.candidate = CandidateView{c->second.AllDefects()};
        views.push_back(std::move(v));
      }
      const auto forced = ApplyControls(controls_.get(), order, address.path, &views);
      const Selection sel = SelectObject(views, forced);
      res.outcome = sel.outcome;
      res.reason = sel.reason;
      if (sel.outcome == Selection::Outcome::kServe) res.record = o->second.at(order[sel.pipeline]);
    }
  }
  if (persist) {
    Status st = store_->PutSelection(*persist);
    if (st.ok()) {
      std::lock_guard lock(mu_);
      auto r = renditions_.find(persist->rendition);
      if (r != renditions_.end()) {
        auto slot = r->second.segments.find(persist->number);
        if (slot != r->second.segments.end() && slot->second.sticky == persist->pipeline) {
          slot->second.sticky_persisted = true;
        }
      }
    } else {
      res.storage_error = true;
      spdlog::error(
          "event {}: cannot persist the sticky selection of {} (retried on the next "
          "GET): {}",
          persist->event, address.path, st.ToString());
    }
  }
  return res;
}

bool LiveEvent::HasAnyCandidate(const ObjectAddress& address) const {
  std::lock_guard lock(mu_);
  if (address.number) {
    auto r = renditions_.find(address.rendition);
    return r != renditions_.end() && r->second.segments.count(*address.number) > 0;
  }
  return objects_.count(address.path) > 0;
}

uint64_t LiveEvent::AddWaiter(const std::string& rendition, uint64_t number,
                              std::function<void()> wake) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_waiter_id_++;
  waiters_[{rendition, number}].push_back(Waiter{id, std::move(wake)});
  return id;
}

void LiveEvent::RemoveWaiter(const std::string& rendition, uint64_t number, uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = waiters_.find({rendition, number});
  if (it == waiters_.end()) return;
  auto& v = it->second;
  v.erase(std::remove_if(v.begin(), v.end(), [id](const Waiter& w) { return w.id == id; }),
          v.end());
  if (v.empty()) waiters_.erase(it);
}

void LiveEvent::Restore(CandidateRecord record, const Body& init_body) {
  std::lock_guard lock(mu_);
  const TimePoint when = FromUnixMillis(record.ingest_unix_ms);
  NoteCandidateLocked(record, when);
  const std::string pipeline = record.id.pipeline;
  if (record.id.number) {
    renditions_[record.id.rendition].segments[*record.id.number].candidates[pipeline] =
        std::move(record);
    return;
  }
  if (record.kind == ObjectKind::kInit && init_body) {
    auto parsed = media::ParseInitSegment(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(init_body->data()), init_body->size()));
    renditions_[record.id.rendition].init_by_pipeline[pipeline] = std::move(parsed.info);
  }
  objects_[record.id.path][pipeline] = std::move(record);
}

void LiveEvent::RestoreSelection(const storage::SelectionRecord& selection) {
  std::lock_guard lock(mu_);
  auto r = renditions_.find(selection.rendition);
  if (r == renditions_.end()) return;
  auto s = r->second.segments.find(selection.number);
  if (s == r->second.segments.end()) return;
  auto c = s->second.candidates.find(selection.pipeline);
  // A sticky choice only holds while the bytes it promised are still there.
  if (c == s->second.candidates.end() || c->second.etag != selection.etag) return;
  s->second.sticky = selection.pipeline;
  s->second.sticky_persisted = true;
  s->second.served = selection.pipeline;
  ++pipelines_[selection.pipeline].selections;
}

std::vector<std::string> LiveEvent::ForgetSegmentsBefore(uint64_t first_kept, size_t min_batch) {
  std::lock_guard lock(mu_);
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

std::vector<std::string> LiveEvent::ForgetObjectsOlderThan(TimePoint cutoff, bool include_init) {
  std::lock_guard lock(mu_);
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

std::map<std::string, PipelineStats> LiveEvent::PipelineSnapshot() const {
  std::lock_guard lock(mu_);
  return pipelines_;
}

json LiveEvent::StatusJson(TimePoint now) const {
  std::lock_guard lock(mu_);
  const LiveTimeline tl(*config_);
  json j;
  j["id"] = config_->id;
  const auto edge = tl.LiveEdge(now);
  j["live_edge"] = edge ? json(*edge) : json(nullptr);
  j["availability_start_time"] = FormatTimestamp(config_->availability_start_time);
  j["segment_duration_seconds"] = Seconds(config_->segment_duration);
  j["dvr_window_seconds"] = Seconds(config_->dvr_window);
  j["now"] = FormatTimestamp(now);
  json pipes = json::array();
  auto describe = [&](const std::string& id, int priority) {
    json p;
    p["id"] = id;
    p["priority"] = priority;
    auto it = pipelines_.find(id);
    const bool healthy = HealthyLocked(id, now);
    p["healthy"] = healthy;
    p["state"] = healthy ? "healthy" : "stalled";
    if (it == pipelines_.end()) {
      p["last_number"] = nullptr;
      p["last_put"] = nullptr;
      p["segments"] = 0;
      p["selections"] = 0;
      p["defects"] = json::object();
      return p;
    }
    const PipelineStats& st = it->second;
    p["last_number"] = st.last_number ? json(*st.last_number) : json(nullptr);
    p["last_put"] = FormatTimestamp(st.last_put);
    p["seconds_since_last_put"] = Seconds(now - st.last_put);
    p["lateness_seconds"] = st.lateness_seconds;
    if (edge && st.last_number) {
      p["behind_live_edge"] = static_cast<int64_t>(*edge) - static_cast<int64_t>(*st.last_number);
    }
    p["segments"] = st.segments;
    p["objects"] = st.objects;
    p["selections"] = st.selections;
    p["defects"] = st.defects;
    return p;
  };
  int priority = 0;
  for (const auto& p : config_->pipelines) pipes.push_back(describe(p.id, priority++));
  for (const auto& [id, st] : pipelines_) {
    if (config_->PipelineIndex(id) < 0) {
      json p = describe(id, -1);
      p["configured"] = false;
      pipes.push_back(std::move(p));
    }
  }
  j["pipelines"] = std::move(pipes);
  json align = json::array();
  for (const auto& [key, a] : alignment_) {
    align.push_back({{"pipelines", {key.first, key.second}},
                     {"number", a.number},
                     {"offset_seconds", a.offset_seconds},
                     {"aligned", a.aligned}});
  }
  j["alignment"] = std::move(align);
  json rends = json::array();
  for (const auto& [id, r] : renditions_) {
    json x{{"id", id}, {"segments", r.segments.size()}};
    if (!r.segments.empty()) {
      x["first"] = r.segments.begin()->first;
      x["last"] = r.segments.rbegin()->first;
    }
    rends.push_back(std::move(x));
  }
  j["renditions"] = std::move(rends);
  return j;
}

json LiveEvent::ObjectJson(const ObjectAddress& address, TimePoint now) const {
  std::lock_guard lock(mu_);
  json j;
  j["event"] = config_->id;
  j["path"] = address.path;
  j["kind"] = KindName(address.kind);
  if (!address.rendition.empty()) j["rendition"] = address.rendition;
  const std::map<std::string, CandidateRecord>* candidates = nullptr;
  std::vector<std::string> order;
  Selection sel;
  const SegmentSlot* slot = nullptr;
  if (address.number) {
    j["number"] = *address.number;
    const LiveTimeline tl(*config_);
    j["availability_time"] = FormatTimestamp(tl.AvailabilityTime(*address.number));
    auto r = renditions_.find(address.rendition);
    if (r != renditions_.end()) {
      auto s = r->second.segments.find(*address.number);
      if (s != r->second.segments.end()) slot = &s->second;
    }
    if (slot) {
      candidates = &slot->candidates;
      sel = SelectLocked(*slot, *address.number, now, &order);
      j["sticky"] = slot->sticky ? json(*slot->sticky) : json(nullptr);
    }
  } else {
    auto o = objects_.find(address.path);
    if (o != objects_.end()) {
      candidates = &o->second;
      order = PipelineOrderLocked(nullptr, candidates);
      std::vector<PipelineView> views;
      for (const auto& id : order) {
        PipelineView v;
        v.healthy = HealthyLocked(id, now);
        auto c = candidates->find(id);
        if (c != candidates->end()) v.candidate = CandidateView{c->second.AllDefects()};
        views.push_back(std::move(v));
      }
      sel = SelectObject(views, ApplyControls(controls_.get(), order, address.path, &views));
    }
  }
  j["outcome"] = OutcomeName(sel.outcome);
  j["reason"] = sel.reason;
  const bool serving = sel.outcome == Selection::Outcome::kServe;
  j["selected"] = serving ? json(order[sel.pipeline]) : json(nullptr);
  if (sel.outcome == Selection::Outcome::kWait) j["wait_until"] = FormatTimestamp(sel.wait_until);
  json list = json::array();
  if (candidates) {
    for (size_t i = 0; i < order.size(); ++i) {
      auto c = candidates->find(order[i]);
      if (c == candidates->end()) continue;
      const CandidateRecord& r = c->second;
      const CandidateRank rank = RankOf(CandidateView{r.AllDefects()}, i);
      json tracks = json::array();
      for (const auto& t : r.tracks) {
        json tj{{"track_id", t.track_id}, {"timescale", t.timescale}};
        if (r.kind == ObjectKind::kSegment) {
          tj["base_decode_time"] = t.base_decode_time;
          tj["duration"] = t.duration;
          tj["sample_count"] = t.sample_count;
          if (t.timescale) {
            tj["start_seconds"] = static_cast<double>(t.base_decode_time) / t.timescale;
            tj["duration_seconds"] = static_cast<double>(t.duration) / t.timescale;
          }
        }
        tracks.push_back(std::move(tj));
      }
      list.push_back({{"pipeline", r.id.pipeline},
                      {"priority", i},
                      {"healthy", HealthyLocked(r.id.pipeline, now)},
                      {"selected", serving && order[sel.pipeline] == r.id.pipeline},
                      {"size", r.size},
                      {"etag", r.etag},
                      {"content_type", r.content_type},
                      {"ingested_at", FormatTimestamp(FromUnixMillis(r.ingest_unix_ms))},
                      {"defects", r.AllDefects()},
                      {"header_defects", r.header_defects},
                      {"origin_defects", r.origin_defects},
                      {"rank",
                       {{"defective", rank.defective != 0},
                        {"worst_severity", rank.worst_severity},
                        {"defect_count", rank.defect_count}}},
                      {"inspection",
                       {{"inspected", r.inspected},
                        {"last_segment", r.last_segment},
                        {"note", r.inspection_note},
                        {"tracks", std::move(tracks)}}}});
    }
  }
  j["candidates"] = std::move(list);
  return j;
}

}  // namespace liveorigin::core
