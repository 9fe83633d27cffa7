// OperatorApi: the admin endpoints of SPEC §12 on top of OperatorControls.
//
//   POST /admin/events/{id}/pipelines/{p}/disable | enable
//   POST /admin/events/{id}/objects/{path}?select={p}
//
// Every change is written to the store first, then applied, logged with who
// asked (remote address, admin token id) and counted in /metrics. Also adds
// the controls to the /admin/events/{id} and object views. Changes are
// serialised; thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "liveorigin/common/clock.h"
#include "liveorigin/common/thread_annotations.h"
#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/http_message.h"
#include "liveorigin/core/operator_controls.h"
#include "liveorigin/metrics/origin_metrics.h"

namespace liveorigin::admin {

using core::EventRegistry;
using core::OperatorControls;
using core::Request;
using core::Response;

class OperatorApi {
 public:
  // `token_id` identifies the admin token that guards the listener ("" when
  // none is configured); it is recorded with every change.
  OperatorApi(EventRegistry& registry, OperatorControls& controls, metrics::OriginMetrics& metrics,
              std::string token_id);

  // The answer when `path` (below /admin/, e.g. "events/demo/pipelines/a/
  // disable") is an operator endpoint for `request.method`; nullopt when it
  // is not one (the caller routes it on).
  std::optional<Response> Handle(const Request& request, std::string_view path, TimePoint now);

  // Adds "operator" (disabled pipelines, forced selections, recent audit) and
  // each pipeline's "disabled" flag to an event's status view.
  void AddToStatus(std::string_view event, nlohmann::json* status) const;
  // Adds "forced" and each candidate's "disabled" flag to an object view.
  void AddToObject(std::string_view event, std::string_view path, nlohmann::json* view) const;

  static constexpr size_t kAuditShown = 20;

 private:
  Response SetPipeline(const Request& request, const std::string& event,
                       const std::string& pipeline, bool disabled, TimePoint now);
  Response Select(const Request& request, const std::string& event, const std::string& path,
                  TimePoint now);
  OperatorControls::Actor ActorOf(const Request& request) const;

  EventRegistry& registry_;
  OperatorControls& controls_;
  metrics::OriginMetrics& metrics_;
  const std::string token_id_;
  Mutex action_mu_;  // one change at a time: old/new ETags stay consistent
};

// The identifier of an admin token recorded in audit entries: "sha256:" and
// the first 12 hex digits of its SHA-256 (the token itself is never stored or
// logged); "" without a token.
std::string AdminTokenId(const std::optional<std::string>& token);

}  // namespace liveorigin::admin
