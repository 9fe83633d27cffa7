#include "liveorigin/admin/event_views.h"

#include "liveorigin/common/units.h"
#include "liveorigin/core/candidate_selector.h"
#include "liveorigin/core/live_timeline.h"

namespace liveorigin::admin {

using nlohmann::json;
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

const char* OutcomeName(core::Selection::Outcome o) {
  switch (o) {
    case core::Selection::Outcome::kServe:
      return "serve";
    case core::Selection::Outcome::kWait:
      return "wait";
    case core::Selection::Outcome::kNone:
      return "none";
  }
  return "none";
}

json PipelineJson(const core::EventView& v, const std::string& id, int priority,
                  std::optional<uint64_t> edge, TimePoint now) {
  json p;
  p["id"] = id;
  p["priority"] = priority;
  auto h = v.healthy.find(id);
  const bool healthy = h != v.healthy.end() && h->second;
  p["healthy"] = healthy;
  p["state"] = healthy ? "healthy" : "stalled";
  auto it = v.pipelines.find(id);
  if (it == v.pipelines.end()) {
    p["last_number"] = nullptr;
    p["last_put"] = nullptr;
    p["segments"] = 0;
    p["selections"] = 0;
    p["defects"] = json::object();
    return p;
  }
  const core::PipelineStats& st = it->second;
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
}

}  // namespace

json EventStatusJson(const core::EventView& v, TimePoint now) {
  const config::EventConfig& cfg = *v.config;
  const core::LiveTimeline tl(cfg);
  json j;
  j["id"] = cfg.id;
  const auto edge = tl.LiveEdge(now);
  j["live_edge"] = edge ? json(*edge) : json(nullptr);
  j["availability_start_time"] = FormatTimestamp(cfg.availability_start_time);
  j["segment_duration_seconds"] = Seconds(cfg.segment_duration);
  j["dvr_window_seconds"] = Seconds(cfg.dvr_window);
  j["now"] = FormatTimestamp(now);
  json pipes = json::array();
  int priority = 0;
  for (const auto& p : cfg.pipelines) pipes.push_back(PipelineJson(v, p.id, priority++, edge, now));
  for (const auto& [id, st] : v.pipelines) {
    if (cfg.PipelineIndex(id) < 0) {
      json p = PipelineJson(v, id, -1, edge, now);
      p["configured"] = false;
      pipes.push_back(std::move(p));
    }
  }
  j["pipelines"] = std::move(pipes);
  json align = json::array();
  for (const auto& a : v.alignment) {
    align.push_back({{"pipelines", {a.first, a.second}},
                     {"number", a.number},
                     {"offset_seconds", a.offset_seconds},
                     {"aligned", a.aligned}});
  }
  j["alignment"] = std::move(align);
  json rends = json::array();
  for (const auto& r : v.renditions) {
    json x{{"id", r.id}, {"segments", r.segments}};
    if (r.first) x["first"] = *r.first;
    if (r.last) x["last"] = *r.last;
    rends.push_back(std::move(x));
  }
  j["renditions"] = std::move(rends);
  return j;
}

json ObjectJson(const config::EventConfig& cfg, const core::ObjectView& v) {
  json j;
  j["event"] = cfg.id;
  j["path"] = v.address.path;
  j["kind"] = KindName(v.address.kind);
  if (!v.address.rendition.empty()) j["rendition"] = v.address.rendition;
  if (v.address.number) {
    j["number"] = *v.address.number;
    j["availability_time"] = FormatTimestamp(v.availability_time);
    j["sticky"] = v.sticky ? json(*v.sticky) : json(nullptr);
  }
  const auto& sel = v.selection;
  j["outcome"] = OutcomeName(sel.outcome);
  j["reason"] = sel.reason;
  const bool serving = sel.outcome == core::Selection::Outcome::kServe;
  j["selected"] = serving ? json(v.order[sel.pipeline]) : json(nullptr);
  if (sel.outcome == core::Selection::Outcome::kWait) {
    j["wait_until"] = FormatTimestamp(sel.wait_until);
  }
  json list = json::array();
  for (const auto& [r, healthy] : v.candidates) {
    size_t priority = 0;
    while (priority < v.order.size() && v.order[priority] != r.id.pipeline) ++priority;
    const core::CandidateRank rank = core::RankOf(core::CandidateView{r.AllDefects()}, priority);
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
                    {"priority", priority},
                    {"healthy", healthy},
                    {"selected", serving && v.order[sel.pipeline] == r.id.pipeline},
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
  j["candidates"] = std::move(list);
  return j;
}

}  // namespace liveorigin::admin
