#include "liveorigin/admin/event_views.h"

#include <algorithm>

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

// The settings every node of a fleet must share for an event (SPEC §10).
json ConfigSummary(const config::EventConfig& cfg) {
  json ids = json::array();
  for (const auto& p : cfg.pipelines) ids.push_back(p.id);
  return {{"availability_start_time", FormatTimestamp(cfg.availability_start_time)},
          {"start_number", cfg.start_number},
          {"segment_duration_seconds", Seconds(cfg.segment_duration)},
          {"dvr_window_seconds", Seconds(cfg.dvr_window)},
          {"pipelines", std::move(ids)}};
}

}  // namespace

json NodeReportJson(const std::string& node, const std::vector<core::EventView>& views,
                    TimePoint now) {
  json events = json::object();
  for (const auto& v : views) {
    const config::EventConfig& cfg = *v.config;
    const auto edge = core::LiveTimeline(cfg).LiveEdge(now);
    json pipes = json::array();
    int priority = 0;
    for (const auto& p : cfg.pipelines) {
      json full = PipelineJson(v, p.id, priority++, edge, now);
      json brief{{"id", p.id},
                 {"state", full["state"]},
                 {"last_number", full["last_number"]},
                 {"selections", full["selections"]}};
      if (full.contains("seconds_since_last_put")) {
        brief["seconds_since_last_put"] = full["seconds_since_last_put"];
      }
      pipes.push_back(std::move(brief));
    }
    events[cfg.id] = {{"config", ConfigSummary(cfg)},
                      {"live_edge", edge ? json(*edge) : json(nullptr)},
                      {"pipelines", std::move(pipes)}};
  }
  return {{"node", node}, {"at_unix_ms", ToUnixMillis(now)}, {"events", std::move(events)}};
}

json ClusterViewJson(const core::EventView& local, const std::vector<std::string>& reports,
                     TimePoint now) {
  const std::string& id = local.config->id;
  const json own_config = ConfigSummary(*local.config);
  std::vector<json> nodes;
  for (const auto& text : reports) {
    const json r = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (r.is_discarded() || !r.is_object() || !r.contains("node") || !r["node"].is_string() ||
        !r.contains("at_unix_ms") || !r["at_unix_ms"].is_number_integer()) {
      nodes.push_back({{"node", nullptr}, {"error", "a node report that does not parse"}});
      continue;
    }
    const int64_t at = r["at_unix_ms"].get<int64_t>();
    const auto age = now - FromUnixMillis(at);
    json n{{"node", r["node"]},
           {"reported", FormatTimestamp(FromUnixMillis(at))},
           {"age_seconds", Seconds(age)},
           {"stale", age > kNodeReportStaleAfter}};
    const json* event = nullptr;
    if (r.contains("events") && r["events"].is_object() && r["events"].contains(id)) {
      event = &r["events"][id];
    }
    n["knows_event"] = event != nullptr;
    if (event && event->is_object()) {
      n["same_config"] = event->contains("config") && (*event)["config"] == own_config;
      if (event->contains("live_edge")) n["live_edge"] = (*event)["live_edge"];
      if (event->contains("pipelines")) n["pipelines"] = (*event)["pipelines"];
    }
    nodes.push_back(std::move(n));
  }
  std::stable_sort(nodes.begin(), nodes.end(), [](const json& a, const json& b) {
    return a["node"].is_string() && b["node"].is_string()
               ? a["node"].get<std::string>() < b["node"].get<std::string>()
               : a["node"].is_string();
  });
  return json(std::move(nodes));
}

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
