#include "liveorigin/admin/admin_service.h"

#include <nlohmann/json.hpp>

#include "liveorigin/admin/event_views.h"
#include "liveorigin/common/bytes.h"
#include "liveorigin/core/request_target.h"

namespace liveorigin::admin {

using core::EqualsIgnoreCase;
using core::ParseRequestTarget;
using core::Request;
using core::Response;
using core::UploadSink;
using nlohmann::json;

AdminService::AdminService(core::EventRegistry& registry, storage::SegmentStore& store,
                           metrics::OriginMetrics& metrics, const Clock& clock,
                           core::TaskRunner& workers, ReloadFn reload,
                           std::optional<std::string> token, core::OperatorControls* controls)
    : registry_(registry),
      store_(store),
      metrics_(metrics),
      clock_(clock),
      workers_(workers),
      reload_(std::move(reload)),
      token_(std::move(token)) {
  if (controls) {
    operator_api_ =
        std::make_unique<OperatorApi>(registry_, *controls, metrics_, AdminTokenId(token_));
  }
}

void AdminService::Handle(Request request, Respond respond) {
  workers_.Post([this, request = std::move(request), respond = std::move(respond)] {
    Response r = Route(request);
    if (request.method == "HEAD") r.ToHeadResponse();
    respond(std::move(r));
  });
}

std::unique_ptr<UploadSink> AdminService::BeginUpload(const Request& request, Response* refusal) {
  *refusal = Response::Error(405, "method_not_allowed", "the admin listener accepts no PUT");
  refusal->SetHeader("Allow", "GET, HEAD, POST");
  return nullptr;
}

Response AdminService::Route(const Request& request) {
  auto target = ParseRequestTarget(request.target);
  if (!target.ok()) return Response::Error(400, "bad_request", target.status().message());
  const std::string& first = target->event;
  const std::string& rest = target->path;
  const bool get = request.method == "GET" || request.method == "HEAD";

  auto finish = [](Response r) { return r; };  // HEAD is handled once, in Handle

  if (first == "healthz" && rest.empty() && get) {
    Response r;
    r.SetBody("ok\n", "text/plain");
    return finish(std::move(r));
  }
  if (first == "readyz" && rest.empty() && get) {
    const Status health = store_.Health();
    json j = {{"ready", health.ok()},
              {"storage", health.ok() ? "ok" : health.ToString()},
              {"events", registry_.All().size()},
              {"node", node_},
              {"storage_engine", storage_engine_}};
    return finish(Response::Json(health.ok() ? 200 : 503, j.dump()));
  }
  if (token_ && (first == "metrics" || first == "admin")) {
    const auto auth = request.Header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    const bool ok = auth && auth->size() > kBearer.size() &&
                    EqualsIgnoreCase(auth->substr(0, kBearer.size()), kBearer) &&
                    ConstantTimeEquals(auth->substr(kBearer.size()), *token_);
    if (!ok) {
      Response r = Response::Error(auth ? 403 : 401, auth ? "forbidden" : "unauthorized",
                                   "this admin endpoint needs Authorization: Bearer <admin_token>");
      if (!auth) r.SetHeader("WWW-Authenticate", "Bearer realm=\"liveorigin-admin\"");
      return r;
    }
  }
  if (first == "metrics" && rest.empty() && get) {
    Response r;
    r.SetBody(metrics_.Render(), "text/plain; version=0.0.4; charset=utf-8");
    return finish(std::move(r));
  }
  if (first == "admin") {
    const TimePoint now = clock_.Now();
    if (rest == "reload") {
      if (request.method != "POST") {
        Response r = Response::Error(405, "method_not_allowed", "use POST /admin/reload");
        r.SetHeader("Allow", "POST");
        return r;
      }
      const auto errors = reload_();
      if (errors.empty()) return Response::Json(200, json{{"reloaded", true}}.dump());
      return Response::Json(422, json{{"reloaded", false},
                                      {"error", "invalid_config"},
                                      {"message", "configuration not applied"},
                                      {"errors", errors}}
                                     .dump());
    }
    // Operator controls (SPEC §12): POSTs below /admin/events/{id}/.
    if (operator_api_) {
      if (auto r = operator_api_->Handle(request, rest, now)) return std::move(*r);
    }
    if (!get) {
      Response r = Response::Error(405, "method_not_allowed", "use GET");
      r.SetHeader("Allow", "GET, HEAD");
      return r;
    }
    if (rest == "events") {
      json list = json::array();
      for (const auto& e : registry_.All()) list.push_back(EventStatusJson(e->View(now), now));
      return finish(
          Response::Json(200, json{{"node", node_}, {"events", std::move(list)}}.dump(2)));
    }
    constexpr std::string_view kEvents = "events/";
    if (rest.rfind(kEvents, 0) == 0) {
      std::string_view tail = std::string_view(rest).substr(kEvents.size());
      const size_t slash = tail.find('/');
      const std::string id(tail.substr(0, slash));
      auto event = registry_.Find(id);
      if (!event)
        return Response::Error(404, "unknown_event", "no event '" + id + "' is configured");
      if (slash == std::string_view::npos) {
        const core::EventView view = event->View(now);
        json status = EventStatusJson(view, now);
        status["node"] = node_;
        status["storage_engine"] = storage_engine_;
        if (store_.Shared()) {
          // What every node of the fleet reported it knows of this event.
          std::vector<std::string> reports;
          Status st = store_.ForEachNodeReport(
              [&reports](std::string&& r) { reports.push_back(std::move(r)); });
          if (st.ok()) {
            status["cluster"] = ClusterViewJson(view, reports, now);
          } else {
            status["cluster"] = nullptr;
            status["cluster_error"] = st.ToString();
          }
        }
        if (operator_api_) operator_api_->AddToStatus(id, &status);
        return finish(Response::Json(200, status.dump(2)));
      }
      constexpr std::string_view kObjects = "objects/";
      std::string_view sub = tail.substr(slash + 1);
      if (sub.rfind(kObjects, 0) == 0 && sub.size() > kObjects.size()) {
        const std::string path(sub.substr(kObjects.size()));
        auto address = event->Classify(path);
        if (!address) {
          return Response::Error(404, "not_found",
                                 "segment number is not in the form the media template renders");
        }
        json view = ObjectJson(*event->config(), event->ViewObject(*address, now));
        view["node"] = node_;
        if (operator_api_) operator_api_->AddToObject(id, address->path, &view);
        return finish(Response::Json(200, view.dump(2)));
      }
    }
  }
  return Response::Error(
      404, "not_found",
      "unknown admin path; try /healthz, /readyz, /metrics, /admin/events, "
      "/admin/events/{id}, /admin/events/{id}/objects/{path}, POST /admin/reload, "
      "POST /admin/events/{id}/pipelines/{p}/disable|enable, "
      "POST /admin/events/{id}/objects/{path}?select={p}");
}

}  // namespace liveorigin::admin
