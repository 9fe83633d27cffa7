// OriginService: the request logic of the main listener (SPEC §4, §5, §11) —
// packager PUTs and POSTs, CDN and browser GETs. Independent of sockets.
//
// Thread-safe. Never blocks its caller: hashing, inspection and storage run
// on `workers`, answers come back through the Respond / Finish callbacks on
// whichever thread finished the work (the session posts them to its own
// executor). Held GETs wait on the event's WaitList and the Scheduler.
//
// Lifetime: create with std::make_shared; every pending operation keeps the
// service alive. The referenced collaborators must outlive every pending
// operation (the server stops its threads and pools before destroying them).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "liveorigin/common/clock.h"
#include "liveorigin/config/config.h"
#include "liveorigin/core/body_cache.h"
#include "liveorigin/core/cors.h"
#include "liveorigin/core/delivery_headers.h"
#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/overload_state.h"
#include "liveorigin/core/request_handler.h"
#include "liveorigin/core/scheduler.h"
#include "liveorigin/core/task_runner.h"
#include "liveorigin/metrics/origin_metrics.h"
#include "liveorigin/storage/segment_store.h"

namespace liveorigin::core {

// Defaults are those of config::Limits (documented there and in
// docs/configuration.md).
struct OriginOptions {
  uint64_t max_object_size = config::Limits{}.max_object_size;
  uint32_t max_held_requests = config::Limits{}.max_held_requests;
  // Above this many GETs in flight (or storage slower than
  // max_storage_latency), GETs for segments more than `shed_behind_segments`
  // behind the live edge are answered 503.
  uint32_t max_inflight_requests = config::Limits{}.max_inflight_requests;
  uint32_t shed_behind_segments = config::Limits{}.shed_behind_segments;
  Millis max_storage_latency = config::Limits{}.max_storage_latency;
  // Held GETs released by one PUT are woken in bursts of this many tasks, so
  // the thread that stored the segment never serves them all (and the PUT's
  // own answer goes out first).
  size_t wake_burst = 64;
  bool access_log = false;                                   // one info line per finished request
  std::string node_name = config::ServerConfig{}.node_name;  // CMSD `n`
  std::vector<std::string> cors_allow_origins = config::CorsConfig{}.allow_origins;
  // With a store other nodes write to (SPEC §10): a held GET re-reads its
  // segment's candidates from the store this often, in case the announcement
  // of the PUT it waits for was lost.
  Millis store_recheck = config::NatsStorageConfig{}.recheck;

  static OriginOptions From(const config::ServerConfig& server);
};

// Where OriginService's work runs.
struct OriginExecutors {
  TaskRunner& workers;  // blocking work: storage, hashing, inspection
  TaskRunner& io;       // short non-blocking work: waking held GETs
  Scheduler& timers;    // hold deadlines and rechecks
};

class OriginService final : public RequestHandler,
                            public std::enable_shared_from_this<OriginService> {
 public:
  OriginService(EventRegistry& registry, storage::SegmentStore& store, BodyCache& cache,
                metrics::OriginMetrics& metrics, const Clock& clock, OriginExecutors executors,
                OriginOptions options);
  ~OriginService() override;

  void Handle(Request request, Respond respond) override;
  bool IsUpload(std::string_view method) const override;
  std::unique_ptr<UploadSink> BeginUpload(const Request& request, Response* refusal) override;
  void Decorate(const Request& request, Response* response) override;
  void OnResponseSent(const Request& request, const Response& response, double seconds) override;
  void OnBodyStreamed(const Request& request, uint64_t bytes) override;

  // Scale-out (SPEC §10): a candidate another node stored (from the store's
  // announcements; any thread, returns at once). It becomes visible here and
  // wakes the GETs held for it; the work runs on the workers.
  void LearnRemoteCandidate(storage::CandidateRecord record);

  // While draining, new PUTs are refused with 503 (SPEC §4.5 "shutting down").
  void SetDraining(bool draining) { draining_.store(draining); }
  const OverloadState& overload() const { return overload_; }
  const DeliveryHeaders& delivery_headers() const { return delivery_; }
  uint64_t uploads_in_progress() const { return uploads_.load(); }
  // GETs and uploads in flight.
  uint64_t inflight() const { return overload_.inflight(); }

 private:
  class Upload;
  class HeldRequest;
  class PlaylistHold;

  void HandleGet(Request request, Respond respond);
  void HandleDelete(const Request& request, const Respond& respond);
  // `store_checked`: with a shared store, a segment no pipeline delivered as
  // far as this node knows was looked up in the store first (SPEC §10).
  void GetSegment(Request request, std::shared_ptr<LiveEvent> event, ObjectAddress address,
                  Respond respond, bool store_checked = false);
  // Serves `decision` (kServe): makes a new sticky choice durable first, then
  // answers with the candidate's bytes (from the cache, or read on a worker).
  // Low latency (SPEC §9): the streamed answer of a GET that follows an
  // upload in progress, or nullopt (then *wait_until may say when to look
  // again: the preferred pipeline's grace).
  std::optional<Response> FollowAnswer(const Request& request,
                                       const std::shared_ptr<LiveEvent>& event,
                                       const ObjectAddress& address, TimePoint now,
                                       TimePoint* wait_until, bool chosen_only = false);
  // Calls `done` with the bytes of a candidate (from the cache, or read on a
  // worker; concurrent reads of the same candidate share one).
  void LoadBody(const storage::CandidateRecord& record,
                const std::function<void(Result<Body>)>& done);
  void ServeDecision(const Request& request, const std::shared_ptr<LiveEvent>& event,
                     Decision decision, Respond respond);
  void Serve(const Request& request, const std::shared_ptr<LiveEvent>& event,
             const storage::CandidateRecord& record, bool durable, Respond respond);
  Response BuildAnswer(const Request& request,
                       const std::shared_ptr<const config::EventConfig>& config,
                       const storage::CandidateRecord& record, const std::string& cache_key,
                       const Result<Body>& body, TimePoint now, bool durable);
  Response Refuse(const Request& request, std::string_view event, std::string_view who, int status,
                  std::string_view code, std::string_view message);
  Response IngestAnswer(const Request& request, const config::EventConfig& config,
                        const std::string& pipeline, const Body& body, IngestResult& result);
  void Wake(std::vector<WaitList::Wake> wakes);

  EventRegistry& registry_;
  storage::SegmentStore& store_;
  BodyCache& cache_;
  metrics::OriginMetrics& metrics_;
  const Clock& clock_;
  OriginExecutors exec_;
  const OriginOptions options_;
  const CorsPolicy cors_;
  DeliveryHeaders delivery_;
  OverloadState overload_;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> uploads_{0};
  // Announcements of other nodes' candidates waiting for a worker; beyond
  // kMaxPendingLearns they are dropped (held GETs re-read the store anyway).
  static constexpr uint64_t kMaxPendingLearns = 10000;
  std::atomic<uint64_t> pending_learns_{0};
};

// Key of a candidate's bytes in the BodyCache.
std::string BodyCacheKey(const storage::CandidateRecord& record);

}  // namespace liveorigin::core
