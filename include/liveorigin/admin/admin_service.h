// AdminService: the admin listener's request logic (SPEC §6, §12): health,
// readiness, Prometheus metrics, event and object status, reload, operator
// controls. Thread-safe. Requests are answered on `workers` (reloads read
// files, /metrics walks every event): never on a network thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "liveorigin/admin/operator_api.h"
#include "liveorigin/common/clock.h"
#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/operator_controls.h"
#include "liveorigin/core/request_handler.h"
#include "liveorigin/core/task_runner.h"
#include "liveorigin/metrics/origin_metrics.h"
#include "liveorigin/storage/segment_store.h"

namespace liveorigin::admin {

class AdminService final : public core::RequestHandler {
 public:
  // Reload returns the errors ("file:line:col: message"); empty = applied.
  using ReloadFn = std::function<std::vector<std::string>()>;

  // `token`: when set, /admin/* and /metrics need "Authorization: Bearer <token>"
  // (compared in constant time); /healthz and /readyz stay open for probes.
  // `controls`: the operator controls (SPEC §12); null leaves their endpoints
  // out. Must outlive the service.
  AdminService(core::EventRegistry& registry, storage::SegmentStore& store,
               metrics::OriginMetrics& metrics, const Clock& clock, core::TaskRunner& workers,
               ReloadFn reload, std::optional<std::string> token = std::nullopt,
               core::OperatorControls* controls = nullptr);

  // Named in /readyz and /admin/events answers (SPEC §10). Call before serving.
  void SetIdentity(std::string node, std::string storage_engine) {
    node_ = std::move(node);
    storage_engine_ = std::move(storage_engine);
  }

  void Handle(core::Request request, Respond respond) override;
  std::unique_ptr<core::UploadSink> BeginUpload(const core::Request& request,
                                                core::Response* refusal) override;

 private:
  core::Response Route(const core::Request& request);

  core::EventRegistry& registry_;
  storage::SegmentStore& store_;
  metrics::OriginMetrics& metrics_;
  const Clock& clock_;
  core::TaskRunner& workers_;
  ReloadFn reload_;
  std::optional<std::string> token_;
  std::string node_ = "liveorigin", storage_engine_ = "rocksdb";
  std::unique_ptr<OperatorApi> operator_api_;  // null without operator controls
};

}  // namespace liveorigin::admin
