// OriginMetrics: every figure /metrics exposes (SPEC §6), behind typed methods so
// request logic never builds label maps itself. Backed by prometheus-cpp, whose
// headers stay inside this module. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liveorigin::metrics {

// Gauges that are read, not pushed: set right before each scrape.
struct PipelineGauge {
  std::string event, pipeline;
  double lateness_seconds = 0;
  double seconds_since_last_put = 0;
  double behind_live_edge = 0;
  bool healthy = false;
};

// Operator controls of one event, read at each scrape (SPEC §12).
struct OperatorGauge {
  std::string event;
  std::vector<std::pair<std::string, bool>> pipelines;  // configured pipeline, disabled
  uint64_t forced_selections = 0;
};

// Connection-level totals of one listener since start, read at every scrape.
struct ListenerCounts {
  uint64_t refused_max_connections = 0;
  uint64_t refused_descriptor_reserve = 0;
  uint64_t accept_emfile = 0;
  uint64_t accept_enfile = 0;
  uint64_t accept_enomem = 0;
  uint64_t accept_other = 0;
};

class OriginMetrics {
 public:
  OriginMetrics();
  ~OriginMetrics();

  // Creates an event's series at 0 (refusal reasons, selections, bytes and
  // defects per pipeline), so dashboards and alerts see them before the first
  // occurrence. Idempotent; called at start and on every reload.
  void DeclareEvent(std::string_view event, const std::vector<std::string>& pipelines,
                    const std::vector<std::string>& defect_types);

  // One finished request on the main listener. `event` may be empty (unknown).
  void RequestDone(std::string_view method, int status, std::string_view event, double seconds,
                   uint64_t bytes_out);
  void BytesIn(std::string_view event, std::string_view pipeline, uint64_t bytes);
  // Body bytes of an answer RequestDone could not know: a followed upload's.
  void BodyBytesOut(std::string_view event, uint64_t bytes);
  void PutRefused(std::string_view event, std::string_view reason);
  void Selection(std::string_view event, std::string_view pipeline);
  void Defect(std::string_view event, std::string_view pipeline, std::string_view type);
  void HeldStarted();
  void HeldFinished(std::string_view outcome);  // released | timeout | shed
  void Shed(std::string_view event);
  // Low latency (SPEC §9): uploads visible while they arrive, GETs following
  // one, and the time from an upload's first byte to a follower's first byte.
  void LiveUploadStarted();
  void LiveUploadEnded(std::string_view outcome);  // complete | failed | stalled | aborted
  void FollowStarted();
  void FollowEnded();
  void FollowFirstByte(double seconds);
  void ReloadResult(bool ok);
  void StorageError(std::string_view operation);
  // An operator change that took effect: action is disable | enable | select.
  void OperatorAction(std::string_view event, std::string_view action);

  // Called at every scrape to refresh read-side gauges.
  using Collector = std::function<void(OriginMetrics&)>;
  void SetCollector(Collector collector);
  void SetPipelineGauges(const std::vector<PipelineGauge>& gauges);
  void SetCache(uint64_t hits, uint64_t misses, uint64_t collapsed, uint64_t bytes,
                uint64_t capacity);
  // The memory files of hot bodies (http::BodyFiles): totals since start.
  void SetSendfileCache(uint64_t bytes, uint64_t files, uint64_t made, uint64_t failed);
  void SetStorageHealthy(bool healthy);
  // liveorigin_node_info{node, storage} 1: which node of a fleet this is (SPEC §10).
  void SetNodeInfo(const std::string& node, const std::string& storage_engine);
  void SetConnections(uint64_t open);
  // Also makes liveorigin_operator_actions_total{event,action} exist (at 0)
  // for every event passed, before any action.
  void SetOperatorGauges(const std::vector<OperatorGauge>& gauges);
  // `listener` is "main" or "admin" (both exported at 0 from the start).
  // Totals must not decrease between calls.
  void SetListenerCounts(std::string_view listener, const ListenerCounts& counts);
  // Descriptors open now (nullopt: not countable at this moment; the gauge
  // keeps its last value), the soft RLIMIT_NOFILE and the reserve kept from
  // main-listener connections.
  void SetDescriptors(std::optional<uint64_t> open, uint64_t soft_limit, uint64_t reserved);

  int64_t held_now() const;

  // Prometheus text exposition format 0.0.4.
  std::string Render();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace liveorigin::metrics
