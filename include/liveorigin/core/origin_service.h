// OriginService: the request logic of the main listener (SPEC §4, §5, §11) —
// packager PUTs and POSTs, CDN and browser GETs. Independent of sockets;
// thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "liveorigin/common/clock.h"
#include "liveorigin/core/body_cache.h"
#include "liveorigin/core/cors.h"
#include "liveorigin/core/delivery_headers.h"
#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/request_handler.h"
#include "liveorigin/core/scheduler.h"
#include "liveorigin/metrics/origin_metrics.h"
#include "liveorigin/storage/segment_store.h"

namespace liveorigin::core {

struct OriginOptions {
  uint64_t max_object_size = 64ull << 20;
  uint32_t max_held_requests = 100000;
  // Above this many GETs in flight, GETs for segments more than
  // `shed_behind_segments` behind the live edge are answered 503.
  uint32_t max_inflight_requests = 20000;
  uint32_t shed_behind_segments = 3;
  bool access_log = false;                              // one info line per finished request
  std::string node_name = "liveorigin";                 // CMSD `n` (server node_name)
  std::vector<std::string> cors_allow_origins = {"*"};  // cors.allow_origin; empty = off
};

class OriginService final : public RequestHandler {
 public:
  OriginService(EventRegistry& registry, storage::SegmentStore& store, BodyCache& cache,
                metrics::OriginMetrics& metrics, const Clock& clock, Scheduler& scheduler,
                OriginOptions options);
  ~OriginService() override;

  void Handle(Request request, Respond respond) override;
  bool IsUpload(std::string_view method) const override;
  std::unique_ptr<UploadSink> BeginUpload(const Request& request, Response* refusal) override;
  void Decorate(const Request& request, Response* response) override;
  void OnResponseSent(const Request& request, const Response& response, double seconds) override;

  const DeliveryHeaders& delivery_headers() const { return delivery_; }

  // While draining, new PUTs are refused with 503 (SPEC §4.5 "shutting down").
  void SetDraining(bool draining) { draining_.store(draining); }
  uint64_t inflight() const { return inflight_.load(); }

 private:
  class Upload;
  class HeldRequest;

  void HandleGet(Request request, Respond respond);
  void HandleDelete(const Request& request, Respond respond);
  void GetSegment(const Request& request, const std::shared_ptr<LiveEvent>& event,
                  const ObjectAddress& address, Respond respond);
  // Builds the 200/206/304/416 answer for a chosen candidate.
  Response Serve(const Request& request, const LiveEvent& event,
                 const storage::CandidateRecord& record, TimePoint now);
  std::string CacheControlFor(const LiveEvent& event, const storage::CandidateRecord& record,
                              TimePoint now) const;
  Response Refuse(const Request& request, std::string_view event, std::string_view who, int status,
                  std::string_view code, std::string_view message);
  Response FinishUpload(Upload& upload);

  EventRegistry& registry_;
  storage::SegmentStore& store_;
  BodyCache& cache_;
  metrics::OriginMetrics& metrics_;
  const Clock& clock_;
  Scheduler& scheduler_;
  const OriginOptions options_;
  const CorsPolicy cors_;
  DeliveryHeaders delivery_;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> inflight_{0};
};

// Key of a candidate's bytes in the BodyCache.
std::string BodyCacheKey(const storage::CandidateRecord& record);

}  // namespace liveorigin::core
