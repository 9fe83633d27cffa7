#include "liveorigin/admin/operator_api.h"

#include "liveorigin/admin/event_views.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "liveorigin/common/units.h"
#include "liveorigin/core/content_digest.h"

namespace liveorigin::admin {

using namespace core;
using nlohmann::json;

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The percent-decoded value of `name` in the query of `target`; nullopt when
// absent or badly escaped.
std::optional<std::string> QueryParam(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  const size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    const std::string_view raw =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        out.push_back(' ');
      } else if (raw[i] == '%') {
        if (i + 2 >= raw.size()) return std::nullopt;
        const int hi = HexValue(raw[i + 1]), lo = HexValue(raw[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        out.push_back(raw[i]);
      }
    }
    return out;
  }
  return std::nullopt;
}

json ActorJson(const storage::OperatorActor& a) {
  return {{"at", FormatTimestamp(FromUnixMillis(a.at_unix_ms))},
          {"node", a.node},
          {"remote", a.remote},
          {"token_id", a.token_id.empty() ? json(nullptr) : json(a.token_id)}};
}

json ForcedJson(const storage::ForcedSelectionRecord& f) {
  return {{"path", f.path},
          {"pipeline", f.pipeline},
          {"etag", f.etag},
          {"previous_pipeline",
           f.previous_pipeline.empty() ? json(nullptr) : json(f.previous_pipeline)},
          {"previous_etag", f.previous_etag.empty() ? json(nullptr) : json(f.previous_etag)},
          {"changed", ActorJson(f.changed)}};
}

json AuditJson(const storage::AuditRecord& a) {
  json j = ActorJson(a.actor);
  j["action"] = a.action;
  j["pipeline"] = a.pipeline;
  if (!a.path.empty()) {
    j["path"] = a.path;
    j["old_etag"] = a.old_etag.empty() ? json(nullptr) : json(a.old_etag);
    j["new_etag"] = a.new_etag;
  }
  return j;
}

std::string Who(const OperatorControls::Actor& actor) {
  return actor.remote + " (admin token " + (actor.token_id.empty() ? "none" : actor.token_id) + ")";
}

Response StorageFailed(const Status& st) {
  Response r =
      Response::Error(503, "storage_unavailable",
                      "the change could not be stored, so it was not applied: " + st.message());
  r.SetHeader("Retry-After", "1");
  return r;
}

}  // namespace

std::string AdminTokenId(const std::optional<std::string>& token) {
  if (!token) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string digest = Sha256(*token);
  std::string out = "sha256:";
  for (size_t i = 0; i < 6; ++i) {
    const auto b = static_cast<unsigned char>(digest[i]);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

OperatorApi::OperatorApi(EventRegistry& registry, OperatorControls& controls,
                         metrics::OriginMetrics& metrics, std::string token_id)
    : registry_(registry), controls_(controls), metrics_(metrics), token_id_(std::move(token_id)) {}

OperatorControls::Actor OperatorApi::ActorOf(const Request& request) const {
  return OperatorControls::Actor{request.remote, token_id_};
}

std::optional<Response> OperatorApi::Handle(const Request& request, std::string_view path,
                                            TimePoint now) {
  constexpr std::string_view kEvents = "events/";
  if (path.substr(0, kEvents.size()) != kEvents) return std::nullopt;
  std::string_view tail = path.substr(kEvents.size());
  const size_t slash = tail.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string event(tail.substr(0, slash));
  const std::string_view sub = tail.substr(slash + 1);
  const bool post = request.method == "POST";

  constexpr std::string_view kPipelines = "pipelines/";
  if (sub.substr(0, kPipelines.size()) == kPipelines) {
    const std::string_view rest = sub.substr(kPipelines.size());
    const size_t cut = rest.rfind('/');
    const std::string_view action = cut == std::string_view::npos ? "" : rest.substr(cut + 1);
    if (cut == 0 || cut == std::string_view::npos || (action != "disable" && action != "enable")) {
      return std::nullopt;
    }
    if (!post) {
      Response r = Response::Error(
          405, "method_not_allowed",
          "use POST /admin/events/{id}/pipelines/{pipeline}/" + std::string(action));
      r.SetHeader("Allow", "POST");
      return r;
    }
    return SetPipeline(request, event, std::string(rest.substr(0, cut)), action == "disable", now);
  }
  constexpr std::string_view kObjects = "objects/";
  if (post && sub.substr(0, kObjects.size()) == kObjects && sub.size() > kObjects.size()) {
    return Select(request, event, std::string(sub.substr(kObjects.size())), now);
  }
  return std::nullopt;
}

Response OperatorApi::SetPipeline(const Request& request, const std::string& event_id,
                                  const std::string& pipeline, bool disabled, TimePoint now) {
  MutexLock lock(action_mu_);
  auto event = registry_.Find(event_id);
  if (!event) {
    return Response::Error(404, "unknown_event", "no event '" + event_id + "' is configured");
  }
  const auto cfg = event->config();
  if (cfg->PipelineIndex(pipeline) < 0) {
    std::string known;
    for (const auto& p : cfg->pipelines) known += (known.empty() ? "" : ", ") + p.id;
    return Response::Error(
        404, "unknown_pipeline",
        "event '" + event_id + "' has no pipeline '" + pipeline + "'; its pipelines are: " + known);
  }
  const auto actor = ActorOf(request);
  bool changed = false;
  if (Status st = controls_.SetPipelineDisabled(event_id, pipeline, disabled, actor, now, &changed);
      !st.ok()) {
    spdlog::error("operator: {} of pipeline {} of event {} by {} not applied: {}",
                  disabled ? "disable" : "enable", pipeline, event_id, Who(actor), st.ToString());
    metrics_.StorageError("operator");
    return StorageFailed(st);
  }
  controls_.Publish(registry_, event_id);
  const auto state = controls_.StateOf(event_id);
  if (changed) {
    metrics_.OperatorAction(event_id, disabled ? "disable" : "enable");
    spdlog::warn("operator: pipeline {} of event {} {} by {} on node {}", pipeline, event_id,
                 disabled ? "disabled (no longer selected for objects not yet served)"
                          : "enabled (selectable again)",
                 Who(actor), controls_.node());
  } else {
    spdlog::info("operator: pipeline {} of event {} was already {} (asked by {})", pipeline,
                 event_id, disabled ? "disabled" : "enabled", Who(actor));
  }
  json j{{"event", event_id},
         {"pipeline", pipeline},
         {"disabled", disabled},
         {"changed", changed},
         {"disabled_pipelines",
          std::vector<std::string>(state->disabled.begin(), state->disabled.end())}};
  size_t enabled = 0;
  for (const auto& p : cfg->pipelines) enabled += state->IsDisabled(p.id) ? 0 : 1;
  if (enabled == 0) {
    j["warning"] =
        "every pipeline of the event is disabled: objects not yet served have no candidate to "
        "serve";
  }
  return Response::Json(200, j.dump(2));
}

Response OperatorApi::Select(const Request& request, const std::string& event_id,
                             const std::string& path, TimePoint now) {
  MutexLock lock(action_mu_);
  auto event = registry_.Find(event_id);
  if (!event) {
    return Response::Error(404, "unknown_event", "no event '" + event_id + "' is configured");
  }
  const auto pipeline = QueryParam(request.target, "select");
  if (!pipeline || pipeline->empty()) {
    return Response::Error(400, "bad_request",
                           "name the pipeline to serve: POST /admin/events/" + event_id +
                               "/objects/" + path + "?select=<pipeline>");
  }
  const auto cfg = event->config();
  if (cfg->PipelineIndex(*pipeline) < 0) {
    std::string known;
    for (const auto& p : cfg->pipelines) known += (known.empty() ? "" : ", ") + p.id;
    return Response::Error(400, "unknown_pipeline",
                           "select names '" + *pipeline + "', which is not a pipeline of event '" +
                               event_id + "'; its pipelines are: " + known);
  }
  auto address = event->Classify(path);
  if (!address) {
    return Response::Error(404, "not_found",
                           "segment number is not in the form the media template renders");
  }
  const json before = ObjectJson(*cfg, event->ViewObject(*address, now));
  const json* chosen = nullptr;
  const json* current = nullptr;
  std::string delivered;
  for (const auto& c : before["candidates"]) {
    delivered += (delivered.empty() ? "" : ", ") + c["pipeline"].get<std::string>();
    if (c["pipeline"] == *pipeline) chosen = &c;
    if (c["selected"] == true) current = &c;
  }
  if (delivered.empty()) {
    return Response::Error(404, "unknown_object",
                           "no pipeline has delivered /" + event_id + "/" + path);
  }
  if (!chosen) {
    return Response::Error(404, "no_candidate",
                           "pipeline '" + *pipeline +
                               "' has not delivered this object; pipelines "
                               "that have: " +
                               delivered);
  }
  storage::ForcedSelectionRecord record;
  record.event = event_id;
  record.path = address->path;
  record.rendition = address->rendition;
  record.number = address->number;
  record.pipeline = *pipeline;
  record.etag = (*chosen)["etag"].get<std::string>();
  if (current) {
    record.previous_pipeline = (*current)["pipeline"].get<std::string>();
    record.previous_etag = (*current)["etag"].get<std::string>();
  }
  const auto actor = ActorOf(request);
  const std::string old_etag = record.previous_etag, old_pipeline = record.previous_pipeline;
  const std::string new_etag = record.etag;
  bool changed = false;
  if (Status st = controls_.Force(std::move(record), actor, now, &changed); !st.ok()) {
    spdlog::error("operator: select {} for {}/{} by {} not applied: {}", *pipeline, event_id, path,
                  Who(actor), st.ToString());
    metrics_.StorageError("operator");
    return StorageFailed(st);
  }
  controls_.Publish(registry_, event_id);
  if (changed) {
    metrics_.OperatorAction(event_id, "select");
    spdlog::warn("operator: /{}/{} forced to pipeline {} (ETag {} -> {}) by {} on node {}",
                 event_id, path, *pipeline, old_etag.empty() ? "none" : old_etag, new_etag,
                 Who(actor), controls_.node());
  }
  json j{{"event", event_id},
         {"path", address->path},
         {"pipeline", *pipeline},
         {"changed", changed},
         {"previous_pipeline", old_pipeline.empty() ? json(nullptr) : json(old_pipeline)},
         {"old_etag", old_etag.empty() ? json(nullptr) : json(old_etag)},
         {"new_etag", new_etag},
         {"bytes_changed", old_etag != new_etag}};
  return Response::Json(200, j.dump(2));
}

void OperatorApi::AddToStatus(std::string_view event, json* status) const {
  const auto state = controls_.StateOf(event);
  if (status->contains("pipelines")) {
    for (auto& p : (*status)["pipelines"]) {
      p["disabled"] = state->IsDisabled(p.value("id", std::string()));
    }
  }
  json forced = json::array();
  for (const auto& [path, f] : state->forced) forced.push_back(ForcedJson(f));
  json audit = json::array();
  for (const auto& a : controls_.RecentAudit(event, kAuditShown)) audit.push_back(AuditJson(a));
  (*status)["operator"] = {{"disabled_pipelines", std::vector<std::string>(state->disabled.begin(),
                                                                           state->disabled.end())},
                           {"forced_selections", std::move(forced)},
                           {"audit", std::move(audit)}};
}

void OperatorApi::AddToObject(std::string_view event, std::string_view path, json* view) const {
  const auto state = controls_.StateOf(event);
  const auto* f = state->ForcedFor(path);
  (*view)["forced"] = f ? ForcedJson(*f) : json(nullptr);
  if (view->contains("candidates")) {
    for (auto& c : (*view)["candidates"]) {
      c["disabled"] = state->IsDisabled(c.value("pipeline", std::string()));
    }
  }
}

}  // namespace liveorigin::admin
