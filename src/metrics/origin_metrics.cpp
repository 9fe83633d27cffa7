#include "liveorigin/metrics/origin_metrics.h"
#include "liveorigin/common/thread_annotations.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_map>

namespace liveorigin::metrics {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

namespace {

std::string StatusClass(int status) { return std::to_string(status / 100) + "xx"; }

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

}  // namespace

struct OriginMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      BuildCounter()
          .Name("liveorigin_requests_total")
          .Help("Requests on the main listener by method, status class and event")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& responses_by_code =
      BuildCounter()
          .Name("liveorigin_responses_total")
          .Help("Responses on the main listener by exact status code")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency =
      BuildHistogram()
          .Name("liveorigin_request_duration_seconds")
          .Help("Time from request head to response written, by method (GET includes holds)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& bytes_out =
      BuildCounter()
          .Name("liveorigin_response_body_bytes_total")
          .Help("Response body bytes sent, by event")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& bytes_in =
      BuildCounter()
          .Name("liveorigin_ingest_bytes_total")
          .Help("Accepted PUT body bytes, by event and pipeline")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& refused =
      BuildCounter()
          .Name("liveorigin_put_refused_total")
          .Help("PUT requests refused, by event and reason")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& selections =
      BuildCounter()
          .Name("liveorigin_selections_total")
          .Help("Segments whose served candidate came from this pipeline")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& defects =
      BuildCounter()
          .Name("liveorigin_defects_total")
          .Help("Defects seen on ingested candidates, by event, pipeline and type")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& held = BuildGauge()
                                                    .Name("liveorigin_held_requests")
                                                    .Help("GET requests held now")
                                                    .Register(*registry);
  prometheus::Family<prometheus::Counter>& held_done =
      BuildCounter()
          .Name("liveorigin_held_requests_total")
          .Help("Held GET requests finished, by outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& live_uploads =
      BuildGauge()
          .Name("liveorigin_uploads_in_progress")
          .Help("Uploads of low-latency events visible to GETs while they arrive")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& live_uploads_done =
      BuildCounter()
          .Name("liveorigin_live_uploads_total")
          .Help("Uploads visible while they arrived, finished, by outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& following = BuildGauge()
                                                         .Name("liveorigin_following_gets")
                                                         .Help("GETs following an upload now")
                                                         .Register(*registry);
  prometheus::Family<prometheus::Counter>& following_total =
      BuildCounter()
          .Name("liveorigin_following_gets_total")
          .Help("GETs answered by following an upload in progress")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& follow_first_byte =
      BuildHistogram()
          .Name("liveorigin_follow_first_byte_seconds")
          .Help("Time from an upload's first byte to a follower's first byte sent")
          .Register(*registry);
  std::atomic<int64_t> live_uploads_now{0};
  std::atomic<int64_t> following_now{0};
  prometheus::Family<prometheus::Counter>& shed =
      BuildCounter()
          .Name("liveorigin_shed_requests_total")
          .Help("Requests answered 503 to protect the live edge")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& reloads = BuildCounter()
                                                         .Name("liveorigin_config_reloads_total")
                                                         .Help("Configuration reloads by result")
                                                         .Register(*registry);
  prometheus::Family<prometheus::Counter>& storage_errors =
      BuildCounter()
          .Name("liveorigin_storage_errors_total")
          .Help("Storage operations that failed, by operation")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& node_info =
      BuildGauge()
          .Name("liveorigin_node_info")
          .Help("Always 1; names this node and its storage engine")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& storage_healthy =
      BuildGauge()
          .Name("liveorigin_storage_healthy")
          .Help("1 when the last storage write succeeded")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& cache_lookups =
      BuildCounter()
          .Name("liveorigin_cache_lookups_total")
          .Help("Hot cache lookups by result (hit, miss, collapsed)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& cache_bytes = BuildGauge()
                                                           .Name("liveorigin_cache_bytes")
                                                           .Help("Bytes held by the hot cache")
                                                           .Register(*registry);
  prometheus::Family<prometheus::Gauge>& cache_capacity =
      BuildGauge()
          .Name("liveorigin_cache_capacity_bytes")
          .Help("Configured hot cache size")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& sendfile_bytes =
      BuildGauge()
          .Name("liveorigin_sendfile_cache_bytes")
          .Help("Bytes of hot bodies held in memory files sent with sendfile")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& sendfile_files =
      BuildGauge()
          .Name("liveorigin_sendfile_cache_files")
          .Help("Memory files of hot bodies open (descriptors)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& sendfile_made =
      BuildCounter()
          .Name("liveorigin_sendfile_cache_files_total")
          .Help(
              "Memory files of hot bodies made (result=made), or that could not be made "
              "(result=failed: no descriptor or memory; the body was sent from memory)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& connections =
      BuildGauge()
          .Name("liveorigin_open_connections")
          .Help("Open connections on the main listener")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& lateness =
      BuildGauge()
          .Name("liveorigin_pipeline_lateness_seconds")
          .Help("Last segment PUT completion minus its availability time")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& since_put =
      BuildGauge()
          .Name("liveorigin_pipeline_seconds_since_last_put")
          .Help("Seconds since the pipeline's last PUT")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& behind =
      BuildGauge()
          .Name("liveorigin_pipeline_segments_behind_live_edge")
          .Help("Live edge number minus the pipeline's last segment number")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& healthy =
      BuildGauge()
          .Name("liveorigin_pipeline_healthy")
          .Help("1 when the pipeline PUT a segment within two segment durations")
          .Register(*registry);

  prometheus::Family<prometheus::Counter>& accept_errors =
      BuildCounter()
          .Name("liveorigin_accept_errors_total")
          .Help(
              "accept() failures by listener and errno (emfile, enfile and enomem pause "
              "accepting for 100 ms)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& connections_refused =
      BuildCounter()
          .Name("liveorigin_connections_refused_total")
          .Help(
              "Connections answered 503 and closed at once, by listener and reason "
              "(max_connections, descriptor_reserve)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& open_descriptors =
      BuildGauge()
          .Name("liveorigin_open_descriptors")
          .Help("File descriptors open in the process")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& descriptor_limit =
      BuildGauge()
          .Name("liveorigin_descriptor_limit")
          .Help("Soft RLIMIT_NOFILE of the process")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& reserved_descriptors =
      BuildGauge()
          .Name("liveorigin_reserved_descriptors")
          .Help(
              "Descriptors kept from main-listener connections for storage, reloads and the "
              "admin port")
          .Register(*registry);

  prometheus::Family<prometheus::Counter>& operator_actions =
      BuildCounter()
          .Name("liveorigin_operator_actions_total")
          .Help("Operator changes that took effect, by event and action (disable, enable, select)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& pipeline_disabled =
      BuildGauge()
          .Name("liveorigin_pipeline_disabled")
          .Help("1 while an operator has taken the pipeline out of selection")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& forced_selections =
      BuildGauge()
          .Name("liveorigin_forced_selections")
          .Help("Objects an operator has forced to one pipeline, by event")
          .Register(*registry);

  std::atomic<int64_t> held_now{0};

  // Series of one (method, status, event): resolved once, then reused, so a
  // request builds no label maps.
  struct RequestSeries {
    prometheus::Counter* requests;
    prometheus::Counter* by_code;
    prometheus::Histogram* latency;
    prometheus::Counter* bytes_out;
  };
  Mutex series_mu;
  std::unordered_map<std::string, RequestSeries> series GUARDED_BY(series_mu);

  RequestSeries& SeriesFor(std::string_view method, int status, std::string_view event) {
    std::string key;
    key.reserve(method.size() + event.size() + 6);
    key.append(method).push_back('\0');
    key.append(std::to_string(status)).push_back('\0');
    key.append(event);
    MutexLock lock(series_mu);
    auto it = series.find(key);
    if (it != series.end()) return it->second;
    const std::string m(method), e(event);
    RequestSeries rs{&requests.Add({{"method", m}, {"status", StatusClass(status)}, {"event", e}}),
                     &responses_by_code.Add({{"code", std::to_string(status)}}),
                     &latency.Add({{"method", m}}, LatencyBuckets()),
                     &bytes_out.Add({{"event", e}})};
    return series.emplace(std::move(key), rs).first->second;
  }

  Mutex collector_mu;
  Collector collector GUARDED_BY(collector_mu);
  Mutex cache_mu;  // the cache counters already reported
  uint64_t last_hits GUARDED_BY(cache_mu) = 0;
  uint64_t last_misses GUARDED_BY(cache_mu) = 0;
  uint64_t last_collapsed GUARDED_BY(cache_mu) = 0;
  uint64_t last_files_made GUARDED_BY(cache_mu) = 0;
  uint64_t last_files_failed GUARDED_BY(cache_mu) = 0;
  Mutex listener_mu;  // the listener totals already reported
  std::map<std::string, ListenerCounts, std::less<>> last_listener GUARDED_BY(listener_mu);
};

OriginMetrics::OriginMetrics() : impl_(std::make_unique<Impl>()) {
  // Every series whose labels are known up front exists at 0 from the start,
  // so a rate() or an alert sees the first event.
  impl_->held.Add({}).Set(0);
  impl_->live_uploads.Add({}).Set(0);
  impl_->following.Add({}).Set(0);
  impl_->following_total.Add({});
  impl_->follow_first_byte.Add({}, LatencyBuckets());
  for (const char* o : {"complete", "failed", "stalled", "aborted"}) {
    impl_->live_uploads_done.Add({{"outcome", o}});
  }
  impl_->storage_healthy.Add({}).Set(1);
  for (const char* r : {"ok", "error"}) impl_->reloads.Add({{"result", r}});
  for (const char* op : {"put", "get", "selection", "retention"}) {
    impl_->storage_errors.Add({{"operation", op}});
  }
  for (const char* o : {"released", "timeout"}) impl_->held_done.Add({{"outcome", o}});
  for (const char* r : {"hit", "miss", "collapsed"}) impl_->cache_lookups.Add({{"result", r}});
  impl_->sendfile_bytes.Add({});
  impl_->sendfile_files.Add({});
  for (const char* r : {"made", "failed"}) impl_->sendfile_made.Add({{"result", r}});
  for (const char* m : {"GET", "HEAD", "PUT"})
    impl_->latency.Add({{"method", m}}, LatencyBuckets());
  for (const char* l : {"main", "admin"}) {
    for (const char* e : {"emfile", "enfile", "enomem", "other"}) {
      impl_->accept_errors.Add({{"listener", l}, {"error", e}});
    }
    for (const char* r : {"max_connections", "descriptor_reserve"}) {
      impl_->connections_refused.Add({{"listener", l}, {"reason", r}});
    }
  }
}

void OriginMetrics::DeclareEvent(std::string_view event, const std::vector<std::string>& pipelines,
                                 const std::vector<std::string>& defect_types) {
  const std::string e(event);
  impl_->shed.Add({{"event", e}});
  impl_->bytes_out.Add({{"event", e}});
  for (const char* reason :
       {"unauthorized", "forbidden", "out_of_window", "too_large", "bad_request", "already_served",
        "aborted", "insufficient_storage", "storage_unavailable", "shutting_down", "bad_encoding",
        "digest_mismatch", "bad_digest", "unsupported_encoding"}) {
    impl_->refused.Add({{"event", e}, {"reason", reason}});
  }
  for (const auto& p : pipelines) {
    impl_->selections.Add({{"event", e}, {"pipeline", p}});
    impl_->bytes_in.Add({{"event", e}, {"pipeline", p}});
    for (const auto& d : defect_types) {
      impl_->defects.Add({{"event", e}, {"pipeline", p}, {"type", d}});
    }
  }
}
OriginMetrics::~OriginMetrics() = default;

void OriginMetrics::RequestDone(std::string_view method, int status, std::string_view event,
                                double seconds, uint64_t bytes_out) {
  Impl::RequestSeries& s = impl_->SeriesFor(method, status, event);
  s.requests->Increment();
  s.by_code->Increment();
  s.latency->Observe(seconds);
  if (bytes_out) s.bytes_out->Increment(static_cast<double>(bytes_out));
}

void OriginMetrics::BodyBytesOut(std::string_view event, uint64_t bytes) {
  impl_->bytes_out.Add({{"event", std::string(event)}}).Increment(static_cast<double>(bytes));
}

void OriginMetrics::BytesIn(std::string_view event, std::string_view pipeline, uint64_t bytes) {
  impl_->bytes_in.Add({{"event", std::string(event)}, {"pipeline", std::string(pipeline)}})
      .Increment(static_cast<double>(bytes));
}

void OriginMetrics::PutRefused(std::string_view event, std::string_view reason) {
  impl_->refused.Add({{"event", std::string(event)}, {"reason", std::string(reason)}}).Increment();
}

void OriginMetrics::Selection(std::string_view event, std::string_view pipeline) {
  impl_->selections.Add({{"event", std::string(event)}, {"pipeline", std::string(pipeline)}})
      .Increment();
}

void OriginMetrics::Defect(std::string_view event, std::string_view pipeline,
                           std::string_view type) {
  impl_->defects
      .Add({{"event", std::string(event)},
            {"pipeline", std::string(pipeline)},
            {"type", std::string(type)}})
      .Increment();
}

void OriginMetrics::HeldStarted() {
  impl_->held.Add({}).Set(static_cast<double>(++impl_->held_now));
}

void OriginMetrics::HeldFinished(std::string_view outcome) {
  impl_->held.Add({}).Set(static_cast<double>(--impl_->held_now));
  impl_->held_done.Add({{"outcome", std::string(outcome)}}).Increment();
}

void OriginMetrics::LiveUploadStarted() {
  impl_->live_uploads.Add({}).Set(static_cast<double>(++impl_->live_uploads_now));
}

void OriginMetrics::LiveUploadEnded(std::string_view outcome) {
  impl_->live_uploads.Add({}).Set(static_cast<double>(--impl_->live_uploads_now));
  impl_->live_uploads_done.Add({{"outcome", std::string(outcome)}}).Increment();
}

void OriginMetrics::FollowStarted() {
  impl_->following.Add({}).Set(static_cast<double>(++impl_->following_now));
  impl_->following_total.Add({}).Increment();
}

void OriginMetrics::FollowEnded() {
  impl_->following.Add({}).Set(static_cast<double>(--impl_->following_now));
}

void OriginMetrics::FollowFirstByte(double seconds) {
  impl_->follow_first_byte.Add({}, LatencyBuckets()).Observe(seconds);
}

int64_t OriginMetrics::held_now() const { return impl_->held_now.load(); }

void OriginMetrics::Shed(std::string_view event) {
  impl_->shed.Add({{"event", std::string(event)}}).Increment();
}

void OriginMetrics::ReloadResult(bool ok) {
  impl_->reloads.Add({{"result", ok ? "ok" : "error"}}).Increment();
}

void OriginMetrics::StorageError(std::string_view operation) {
  impl_->storage_errors.Add({{"operation", std::string(operation)}}).Increment();
}

void OriginMetrics::OperatorAction(std::string_view event, std::string_view action) {
  impl_->operator_actions.Add({{"event", std::string(event)}, {"action", std::string(action)}})
      .Increment();
}

void OriginMetrics::SetOperatorGauges(const std::vector<OperatorGauge>& gauges) {
  for (const auto& g : gauges) {
    for (const char* action : {"disable", "enable", "select"}) {
      impl_->operator_actions.Add({{"event", g.event}, {"action", action}});
    }
    for (const auto& [pipeline, disabled] : g.pipelines) {
      impl_->pipeline_disabled.Add({{"event", g.event}, {"pipeline", pipeline}})
          .Set(disabled ? 1 : 0);
    }
    impl_->forced_selections.Add({{"event", g.event}})
        .Set(static_cast<double>(g.forced_selections));
  }
}

void OriginMetrics::SetCollector(Collector collector) {
  MutexLock lock(impl_->collector_mu);
  impl_->collector = std::move(collector);
}

void OriginMetrics::SetPipelineGauges(const std::vector<PipelineGauge>& gauges) {
  for (const auto& g : gauges) {
    const prometheus::Labels l{{"event", g.event}, {"pipeline", g.pipeline}};
    impl_->lateness.Add(l).Set(g.lateness_seconds);
    impl_->since_put.Add(l).Set(g.seconds_since_last_put);
    impl_->behind.Add(l).Set(g.behind_live_edge);
    impl_->healthy.Add(l).Set(g.healthy ? 1 : 0);
  }
}

void OriginMetrics::SetCache(uint64_t hits, uint64_t misses, uint64_t collapsed, uint64_t bytes,
                             uint64_t capacity) {
  MutexLock lock(impl_->cache_mu);
  impl_->cache_lookups.Add({{"result", "hit"}})
      .Increment(static_cast<double>(hits - impl_->last_hits));
  impl_->cache_lookups.Add({{"result", "miss"}})
      .Increment(static_cast<double>(misses - impl_->last_misses));
  impl_->cache_lookups.Add({{"result", "collapsed"}})
      .Increment(static_cast<double>(collapsed - impl_->last_collapsed));
  impl_->last_hits = hits;
  impl_->last_misses = misses;
  impl_->last_collapsed = collapsed;
  impl_->cache_bytes.Add({}).Set(static_cast<double>(bytes));
  impl_->cache_capacity.Add({}).Set(static_cast<double>(capacity));
}

void OriginMetrics::SetSendfileCache(uint64_t bytes, uint64_t files, uint64_t made,
                                     uint64_t failed) {
  MutexLock lock(impl_->cache_mu);
  impl_->sendfile_bytes.Add({}).Set(static_cast<double>(bytes));
  impl_->sendfile_files.Add({}).Set(static_cast<double>(files));
  impl_->sendfile_made.Add({{"result", "made"}})
      .Increment(static_cast<double>(made - impl_->last_files_made));
  impl_->sendfile_made.Add({{"result", "failed"}})
      .Increment(static_cast<double>(failed - impl_->last_files_failed));
  impl_->last_files_made = made;
  impl_->last_files_failed = failed;
}

void OriginMetrics::SetNodeInfo(const std::string& node, const std::string& storage_engine) {
  impl_->node_info.Add({{"node", node}, {"storage", storage_engine}}).Set(1);
}

void OriginMetrics::SetStorageHealthy(bool healthy) {
  impl_->storage_healthy.Add({}).Set(healthy ? 1 : 0);
}

void OriginMetrics::SetConnections(uint64_t open) {
  impl_->connections.Add({}).Set(static_cast<double>(open));
}

void OriginMetrics::SetListenerCounts(std::string_view listener, const ListenerCounts& counts) {
  MutexLock lock(impl_->listener_mu);
  ListenerCounts& last = impl_->last_listener[std::string(listener)];
  const std::string l(listener);
  auto add = [](prometheus::Counter& c, uint64_t now, uint64_t before) {
    if (now > before) c.Increment(static_cast<double>(now - before));
  };
  add(impl_->accept_errors.Add({{"listener", l}, {"error", "emfile"}}), counts.accept_emfile,
      last.accept_emfile);
  add(impl_->accept_errors.Add({{"listener", l}, {"error", "enfile"}}), counts.accept_enfile,
      last.accept_enfile);
  add(impl_->accept_errors.Add({{"listener", l}, {"error", "enomem"}}), counts.accept_enomem,
      last.accept_enomem);
  add(impl_->accept_errors.Add({{"listener", l}, {"error", "other"}}), counts.accept_other,
      last.accept_other);
  add(impl_->connections_refused.Add({{"listener", l}, {"reason", "max_connections"}}),
      counts.refused_max_connections, last.refused_max_connections);
  add(impl_->connections_refused.Add({{"listener", l}, {"reason", "descriptor_reserve"}}),
      counts.refused_descriptor_reserve, last.refused_descriptor_reserve);
  last = counts;
}

void OriginMetrics::SetDescriptors(std::optional<uint64_t> open, uint64_t soft_limit,
                                   uint64_t reserved) {
  if (open) impl_->open_descriptors.Add({}).Set(static_cast<double>(*open));
  impl_->descriptor_limit.Add({}).Set(static_cast<double>(soft_limit));
  impl_->reserved_descriptors.Add({}).Set(static_cast<double>(reserved));
}

std::string OriginMetrics::Render() {
  {
    MutexLock lock(impl_->collector_mu);
    if (impl_->collector) impl_->collector(*this);
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace liveorigin::metrics
