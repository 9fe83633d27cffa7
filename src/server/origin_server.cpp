#include "liveorigin/server/origin_server.h"
#include "liveorigin/common/thread_annotations.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cerrno>
#include <condition_variable>
#include <thread>

#include "descriptor_budget.h"
#include "liveorigin/admin/admin_service.h"
#include "liveorigin/admin/event_views.h"
#include "liveorigin/core/body_cache.h"
#include "liveorigin/core/defects.h"
#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/live_timeline.h"
#include "liveorigin/core/operator_controls.h"
#include "liveorigin/core/origin_service.h"
#include "liveorigin/http/http_listener.h"
#include "liveorigin/metrics/origin_metrics.h"
#include "liveorigin/storage/nats_segment_store.h"
#include "liveorigin/storage/rocksdb_segment_store.h"

namespace liveorigin::server {

namespace net = boost::asio;
namespace fs = std::filesystem;

namespace {

// Short non-blocking tasks on the network threads (waking held GETs).
class IoTaskRunner final : public core::TaskRunner {
 public:
  explicit IoTaskRunner(net::io_context& ioc) : ioc_(ioc) {}
  void Post(std::function<void()> task) override { net::post(ioc_, std::move(task)); }

 private:
  net::io_context& ioc_;
};

// Blocking work (storage, hashing, inspection, reloads) on a fixed pool of
// threads, never on the network threads.
class WorkerPool final : public core::TaskRunner {
 public:
  explicit WorkerPool(size_t threads) : pool_(threads) {}
  void Post(std::function<void()> task) override { net::post(pool_, std::move(task)); }
  // Waits for every posted task (and those they post) to finish.
  void Join() { pool_.join(); }

 private:
  net::thread_pool pool_;
};

// Timers on the io_context: held requests wait without blocking a thread.
class AsioScheduler final : public core::Scheduler {
 public:
  explicit AsioScheduler(net::io_context& ioc) : ioc_(ioc) {}
  void RunAfter(Millis delay, std::function<void()> fn) override {
    auto timer = std::make_shared<net::steady_timer>(ioc_, delay);
    timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
  }

 private:
  net::io_context& ioc_;
};

// A cheap fingerprint of events_dir (names, sizes, mtimes) to notice edits.
std::string DirectorySignature(const fs::path& dir) {
  std::string sig;
  std::error_code ec;
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::error_code e2;
    const auto mtime = fs::last_write_time(e.path(), e2).time_since_epoch().count();
    entries.push_back(e.path().filename().string() + ":" +
                      std::to_string(e.is_regular_file(e2) ? e.file_size(e2) : 0) + ":" +
                      std::to_string(mtime));
  }
  std::sort(entries.begin(), entries.end());
  for (auto& s : entries) sig += s + "\n";
  return sig;
}

// What to do when the store cannot be opened. A directory the daemon may not
// write (a root-owned bind mount in a container) gets the exact chown.
std::string StoreOpenHint(const Status& st, const fs::path& data_dir) {
  const bool denied = st.message().find("Permission denied") != std::string::npos ||
                      (::access(data_dir.c_str(), W_OK | X_OK) != 0 && errno == EACCES);
  if (!denied) {
    return "check that data_dir exists, is writable and not used by another liveorigin process";
  }
  const std::string ids = std::to_string(::geteuid()) + ":" + std::to_string(::getegid());
  return "data_dir " + data_dir.string() + " is not writable by uid:gid " + ids +
         ", which liveorigin runs as: give it that owner (chown -R " + ids +
         " on it, or on the host directory bind-mounted there)";
}

std::string LimitText(uint64_t v) { return v == UINT64_MAX ? "unlimited" : std::to_string(v); }

}  // namespace

struct OriginServer::Impl {
  fs::path config_file;
  std::shared_ptr<const config::Snapshot> snapshot;
  SystemClock clock;
  // Destruction order matters: the io_context (and every session and timer it
  // holds) goes before the services those refer to; see Shutdown().
  std::shared_ptr<storage::SegmentStore> store;
  storage::RocksDbSegmentStore* rocks = nullptr;  // the store, with engine: rocksdb
  std::unique_ptr<core::EventRegistry> registry;
  std::unique_ptr<core::OperatorControls> controls;  // SPEC §12
  std::unique_ptr<core::BodyCache> cache;
  metrics::OriginMetrics metrics;
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<net::io_context> ioc = std::make_unique<net::io_context>();
  std::unique_ptr<IoTaskRunner> io_tasks;
  std::unique_ptr<AsioScheduler> scheduler;
  std::shared_ptr<core::OriginService> origin;
  std::shared_ptr<admin::AdminService> admin;
  std::shared_ptr<http::HttpListener> main_listener, admin_listener;
  Mutex reload_mu;
  std::string events_signature GUARDED_BY(reload_mu);

  // Background retention (SPEC §7): never on a request thread.
  std::thread retention_thread;
  Mutex retention_mu;
  std::condition_variable_any retention_cv;
  bool stopping GUARDED_BY(retention_mu) = false;
  // Retention-thread only: seconds since operator controls were last re-read.
  static constexpr int kControlsRefreshSeconds = 2;
  int controls_refresh_tick = 0;
  // Retention-thread only: seconds since this node last reported what it
  // knows into a shared store (the cluster view of /admin/events/{id}).
  int node_report_tick = 0;
  bool node_report_failing = false;
  std::string node_name;  // set once at start
  void ReportNode();

  void RetentionLoop();
  void RunRetentionOnce();
  std::vector<std::string> Reload();
  void StopRetention();
  void Shutdown();
  void DeclareMetrics(const std::vector<config::EventConfig>& events);
};

void OriginServer::Impl::DeclareMetrics(const std::vector<config::EventConfig>& events) {
  const std::vector<std::string> defects(core::defect::kKnown.begin(), core::defect::kKnown.end());
  for (const auto& e : events) {
    std::vector<std::string> pipelines;
    for (const auto& p : e.pipelines) pipelines.push_back(p.id);
    metrics.DeclareEvent(e.id, pipelines, defects);
  }
}

OriginServer::OriginServer(fs::path config_file, std::shared_ptr<const config::Snapshot> snapshot)
    : impl_(std::make_unique<Impl>()) {
  impl_->config_file = std::move(config_file);
  impl_->snapshot = std::move(snapshot);
}

OriginServer::~OriginServer() { impl_->Shutdown(); }

void OriginServer::Impl::StopRetention() {
  if (!retention_thread.joinable()) return;
  {
    MutexLock lock(retention_mu);
    stopping = true;
  }
  retention_cv.notify_all();
  retention_thread.join();
}

// Stops everything that could still run code against the services, in the
// order that lets nothing dangle: the retention thread, the workers (their
// completions post to the stopped io_context), then the io_context itself,
// whose destruction drops every session (aborting unfinished uploads) and
// timer. The services, the cache and the store go after, with Impl.
void OriginServer::Impl::Shutdown() {
  // No announcement of another node's PUT reaches the services from now on.
  if (store) store->SetRemoteCandidateListener(nullptr);
  StopRetention();
  if (ioc) ioc->stop();
  if (workers) workers->Join();
  main_listener.reset();
  admin_listener.reset();
  ioc.reset();
}

int OriginServer::Start() {
  Impl& s = *impl_;
  const config::ServerConfig& cfg = s.snapshot->server;
  const DescriptorLimit nofile = RaiseDescriptorLimit();
  if (!nofile.error.empty()) {
    spdlog::warn("cannot raise the open-file soft limit to the hard limit: {}", nofile.error);
  }
  auto budget = PlanDescriptors(nofile.soft, cfg.limits.max_connections);
  if (!budget.ok()) {
    spdlog::critical("{}", budget.status().message());
    return kExitStorageOrBind;
  }
  spdlog::info(
      "open files: soft limit {} ({}), hard limit {}; {} reserved for storage ({}), reloads "
      "({}), the admin port ({}), memory files of hot bodies ({}) and the process ({}); main "
      "listener max_connections {}",
      LimitText(nofile.soft),
      nofile.soft == nofile.soft_before ? "unchanged"
                                        : "raised from " + LimitText(nofile.soft_before),
      LimitText(nofile.hard), kReservedDescriptors,
      kStorageMaxOpenFiles + kStorageWorkingDescriptors, kReloadDescriptors, kAdminMaxConnections,
      kSendfileDescriptors, kProcessDescriptors, budget->max_connections);
  if (budget->capped) {
    spdlog::warn(
        "limits.max_connections ({}) plus {} reserved descriptors exceeds the open-file limit "
        "({}): serving at most {} connections; raise the limit (docker run --ulimit "
        "nofile=65536:65536, systemd LimitNOFILE=65536) or lower limits.max_connections",
        cfg.limits.max_connections, kReservedDescriptors, budget->limit, budget->max_connections);
  }
  std::string store_name = cfg.data_dir.string();
  if (cfg.storage.engine == "nats") {
    // SPEC §10: the store is shared with the other nodes of the fleet.
    storage::NatsOptions nats;
    nats.servers = cfg.storage.nats.servers;
    nats.replicas = static_cast<int>(cfg.storage.nats.replicas);
    nats.prefix = cfg.storage.nats.prefix;
    nats.node = cfg.node_name;
    nats.timeout = cfg.storage.nats.timeout;
    auto opened = storage::NatsSegmentStore::Open(nats);
    if (!opened.ok()) {
      spdlog::critical("{}; check storage.nats in {} and that the NATS servers run with JetStream",
                       opened.status().ToString(), s.config_file.string());
      return kExitStorageOrBind;
    }
    spdlog::info(
        "storage: NATS JetStream at {} (prefix {}, {} replica(s), bodies in parts of {} "
        "bytes)",
        fmt::join(nats.servers, ", "), nats.prefix, nats.replicas, (*opened)->part_size());
    store_name = "NATS (prefix " + nats.prefix + ")";
    s.store = std::move(opened).value();
  } else {
    storage::RocksDbOptions store_options;
    store_options.path = cfg.data_dir;
    store_options.sync_writes = cfg.sync_writes;
    store_options.min_free_bytes = cfg.limits.min_free_disk;
    store_options.max_open_files = static_cast<int>(kStorageMaxOpenFiles);
    auto opened = storage::RocksDbSegmentStore::Open(store_options);
    if (!opened.ok()) {
      spdlog::critical("{}; {}", opened.status().message(),
                       StoreOpenHint(opened.status(), cfg.data_dir));
      return kExitStorageOrBind;
    }
    s.rocks = opened->get();
    s.store = std::move(opened).value();
  }
  s.registry = std::make_unique<core::EventRegistry>(s.store);
  s.registry->Apply(s.snapshot->events);
  s.DeclareMetrics(s.snapshot->events);
  size_t restored = 0, skipped = 0;
  if (Status st = s.registry->Rebuild(&restored, &skipped); !st.ok()) {
    spdlog::critical("cannot rebuild state from {}: {}", store_name, st.ToString());
    return kExitStorageOrBind;
  }
  // Operator controls (SPEC §12) live in the store: a restart keeps them.
  s.controls = std::make_unique<core::OperatorControls>(s.store, cfg.node_name);
  if (Status st = s.controls->Restore(); !st.ok()) {
    spdlog::critical("cannot read operator controls from {}: {}", store_name, st.ToString());
    return kExitStorageOrBind;
  }
  s.controls->Publish(*s.registry);
  s.cache = std::make_unique<core::BodyCache>(cfg.cache_size);
  const size_t worker_threads =
      cfg.limits.worker_threads
          ? cfg.limits.worker_threads
          : std::max<size_t>(4, size_t{2} * std::max(1u, std::thread::hardware_concurrency()));
  s.workers = std::make_unique<WorkerPool>(worker_threads);
  s.io_tasks = std::make_unique<IoTaskRunner>(*s.ioc);
  s.scheduler = std::make_unique<AsioScheduler>(*s.ioc);
  s.origin = std::make_shared<core::OriginService>(
      *s.registry, *s.store, *s.cache, s.metrics, s.clock,
      core::OriginExecutors{*s.workers, *s.io_tasks, *s.scheduler}, core::OriginOptions::From(cfg));
  s.admin = std::make_shared<admin::AdminService>(
      *s.registry, *s.store, s.metrics, s.clock, *s.workers, [this] { return ReloadEvents(); },
      cfg.admin_token, s.controls.get());
  s.admin->SetIdentity(cfg.node_name, cfg.storage.engine);
  s.node_name = cfg.node_name;
  s.metrics.SetNodeInfo(cfg.node_name, cfg.storage.engine);
  // Candidates other nodes store become visible here (SPEC §10).
  s.store->SetRemoteCandidateListener(
      [weak = std::weak_ptr<core::OriginService>(s.origin)](storage::CandidateRecord&& record) {
        if (auto origin = weak.lock()) origin->LearnRemoteCandidate(std::move(record));
      });

  http::ListenerOptions main_opts;
  main_opts.name = "main";
  main_opts.max_header_size = cfg.limits.max_header_size;
  main_opts.idle_timeout = cfg.limits.idle_timeout;
  main_opts.max_connections = budget->max_connections;
  main_opts.reserved_descriptors = kReservedDescriptors;
  main_opts.max_discard_bytes = http::ListenerOptions::DiscardLimit(cfg.limits.max_object_size);
  main_opts.sendfile_cache = cfg.sendfile_cache;
  auto main_listener = http::HttpListener::Start(*s.ioc, cfg.listen, s.origin, main_opts);
  if (!main_listener.ok()) {
    spdlog::critical("{}; change 'listen' in {} or stop the process using the port",
                     main_listener.status().message(), s.config_file.string());
    return kExitStorageOrBind;
  }
  s.main_listener = *main_listener;
  http::ListenerOptions admin_opts;
  admin_opts.name = "admin";
  admin_opts.idle_timeout = cfg.limits.idle_timeout;
  admin_opts.max_connections = kAdminMaxConnections;
  admin_opts.reserved_descriptors = kReservedBelowAdmin;
  auto admin_listener = http::HttpListener::Start(*s.ioc, cfg.admin_listen, s.admin, admin_opts);
  if (!admin_listener.ok()) {
    spdlog::critical("{}; change 'admin_listen' in {} or stop the process using the port",
                     admin_listener.status().message(), s.config_file.string());
    return kExitStorageOrBind;
  }
  s.admin_listener = *admin_listener;

  s.metrics.SetCollector([&s](metrics::OriginMetrics& m) {
    const TimePoint now = s.clock.Now();
    std::vector<metrics::PipelineGauge> gauges;
    for (const auto& event : s.registry->All()) {
      const auto cfg = event->config();
      const auto edge = core::LiveTimeline(*cfg).LiveEdge(now);
      for (const auto& [id, st] : event->PipelineSnapshot()) {
        metrics::PipelineGauge g;
        g.event = cfg->id;
        g.pipeline = id;
        g.lateness_seconds = st.lateness_seconds;
        g.seconds_since_last_put = std::chrono::duration<double>(now - st.last_put).count();
        if (edge && st.last_number) {
          g.behind_live_edge = static_cast<double>(*edge) - static_cast<double>(*st.last_number);
        }
        g.healthy = event->PipelineHealthy(id, now);
        gauges.push_back(std::move(g));
      }
    }
    m.SetPipelineGauges(gauges);
    std::vector<metrics::OperatorGauge> operator_gauges;
    for (const auto& event : s.registry->All()) {
      const auto cfg = event->config();
      const auto state = s.controls->StateOf(cfg->id);
      metrics::OperatorGauge g;
      g.event = cfg->id;
      for (const auto& p : cfg->pipelines) g.pipelines.emplace_back(p.id, state->IsDisabled(p.id));
      g.forced_selections = state->forced.size();
      operator_gauges.push_back(std::move(g));
    }
    m.SetOperatorGauges(operator_gauges);
    m.SetCache(s.cache->hits(), s.cache->misses(), s.cache->collapsed(), s.cache->bytes(),
               s.cache->capacity());
    if (const auto& files = s.main_listener->state().body_files) {
      m.SetSendfileCache(files->bytes(), files->files(), files->made(), files->failed());
    }
    m.SetStorageHealthy(s.store->Health().ok());
    m.SetConnections(s.main_listener->state().open_connections.load());
    for (const auto& listener : {s.main_listener, s.admin_listener}) {
      const http::ListenerState& ls = listener->state();
      metrics::ListenerCounts c;
      c.refused_max_connections = ls.refused_max_connections.load();
      c.refused_descriptor_reserve = ls.refused_descriptor_reserve.load();
      c.accept_emfile = ls.accept_emfile.load();
      c.accept_enfile = ls.accept_enfile.load();
      c.accept_enomem = ls.accept_enomem.load();
      c.accept_other = ls.accept_other.load();
      m.SetListenerCounts(listener == s.main_listener ? "main" : "admin", c);
    }
    m.SetDescriptors(CountOpenDescriptors(), CurrentDescriptorLimit(), kReservedDescriptors);
  });

  {
    MutexLock lock(s.reload_mu);
    s.events_signature = DirectorySignature(cfg.events_dir);
  }
  s.retention_thread = std::thread([&s] { s.RetentionLoop(); });

  spdlog::info("liveorigin {} started", LIVEORIGIN_VERSION);
  spdlog::info("listening on {} (packager PUT, CDN GET), admin on {}", s.main_listener->address(),
               s.admin_listener->address());
  spdlog::info("node {}", cfg.node_name);
  spdlog::info(
      "{} {} ({} candidates restored{}){}", s.rocks ? "data_dir" : "store", store_name, restored,
      skipped ? ", " + std::to_string(skipped) + " of unconfigured events" : "",
      s.rocks ? (s.rocks->sync_writes() ? ", sync_writes true" : ", sync_writes false") : "");
  for (const auto& e : s.snapshot->events) {
    spdlog::info("event {}: d={}ms, {} pipeline(s), media_template '{}' ({})", e.id,
                 e.segment_duration.count(), e.pipelines.size(), e.media_template.pattern(),
                 e.source_file.string());
  }
  if (s.snapshot->events.empty()) {
    spdlog::warn("no events configured in {}", cfg.events_dir.string());
  }
  return kExitOk;
}

std::vector<std::string> OriginServer::ReloadEvents() { return impl_->Reload(); }

std::vector<std::string> OriginServer::Impl::Reload() {
  MutexLock lock(reload_mu);
  const fs::path dir = snapshot->server.events_dir;
  config::LoadedEvents loaded = config::LoadEventDirectory(dir);
  events_signature = DirectorySignature(dir);
  std::vector<std::string> errors;
  for (const auto& e : loaded.errors) errors.push_back(e.ToString());
  if (!errors.empty()) {
    for (const auto& e : errors) spdlog::error("reload rejected: {}", e);
    spdlog::error(
        "configuration reload failed ({} error(s)); the running configuration is "
        "unchanged",
        errors.size());
    metrics.ReloadResult(false);
    return errors;
  }
  registry->Apply(loaded.events);
  DeclareMetrics(loaded.events);
  controls->Publish(*registry);  // events added by the reload get their controls
  metrics.ReloadResult(true);
  spdlog::info("configuration reloaded: {} event(s)", loaded.events.size());
  return {};
}

void OriginServer::Impl::RunRetentionOnce() {
  const TimePoint now = clock.Now();
  auto retire = [&](const std::shared_ptr<const config::EventConfig>& cfg,
                    const std::shared_ptr<core::LiveEvent>& event, bool retired) {
    // Manifests and other non-segment objects that nobody rewrote for a whole DVR
    // window; init segments only once the event itself is gone.
    if (event) {
      for (const auto& path :
           event->ForgetObjectsOlderThan(now - cfg->dvr_window - cfg->segment_duration, retired)) {
        Status st = store->DeleteObject(cfg->id, path);
        if (!st.ok()) {
          metrics.StorageError("retention");
          spdlog::error("retention of {}/{} failed: {}", cfg->id, path, st.ToString());
        }
        if (controls->ForgetObject(cfg->id, path)) controls->Publish(*registry, cfg->id);
      }
    }
    const core::LiveTimeline tl(*cfg);
    // Keep one extra segment of grace beyond the window for slow CDN fetches.
    const uint64_t first = tl.FirstInWindow(now);
    if (first <= tl.start_number() + 1) return;
    const uint64_t first_kept = first - 1;
    // One range delete per ~30 aged segments (or a tenth of the window) per
    // rendition: range tombstones cost RocksDB at every flush until compacted.
    const size_t batch = retired ? 1 : std::clamp<size_t>(tl.DvrSegments() / 10, 1, 30);
    std::vector<std::string> renditions;
    if (event) renditions = event->ForgetSegmentsBefore(first_kept, batch);
    for (const auto& r : renditions) {
      Status st = store->DeleteSegmentsBefore(cfg->id, r, first_kept);
      if (!st.ok()) {
        metrics.StorageError("retention");
        spdlog::error("retention for event {} rendition {} failed: {}", cfg->id, r, st.ToString());
      }
      if (controls->ForgetSegmentsBefore(cfg->id, r, first_kept)) {
        controls->Publish(*registry, cfg->id);
      }
    }
  };
  for (const auto& event : registry->All()) retire(event->config(), event, false);
  for (const auto& [id, event] : registry->RetiredEvents()) retire(event->config(), event, true);
}

void OriginServer::Impl::ReportNode() {
  const TimePoint now = clock.Now();
  std::vector<core::EventView> views;
  for (const auto& event : registry->All()) views.push_back(event->View(now));
  const std::string report = admin::NodeReportJson(node_name, views, now).dump();
  Status st = store->PutNodeReport(node_name, report);
  // Logged when it starts and stops failing, not every interval.
  if (!st.ok() && !node_report_failing) {
    spdlog::warn("cannot write this node's report to the shared store: {}", st.ToString());
  } else if (st.ok() && node_report_failing) {
    spdlog::info("this node's report reaches the shared store again");
  }
  node_report_failing = !st.ok();
}

void OriginServer::Impl::RetentionLoop() {
  for (;;) {
    {
      MutexLock lock(retention_mu);
      // The wait releases and retakes retention_mu, which the analysis cannot follow.
      const bool stop =
          retention_cv.wait_for(retention_mu, std::chrono::seconds(1),
                                [this]() NO_THREAD_SAFETY_ANALYSIS { return stopping; });
      if (stop) return;
    }
    RunRetentionOnce();
    // A store shared by a fleet (SPEC §10): operator controls changed on
    // other nodes apply here within kControlsRefreshSeconds.
    if (store->Shared() && ++controls_refresh_tick >= kControlsRefreshSeconds) {
      controls_refresh_tick = 0;
      if (Status st = controls->Restore(); st.ok()) {
        controls->Publish(*registry);
      } else {
        spdlog::warn("cannot refresh operator controls from the store: {}", st.ToString());
      }
    }
    if (store->Shared() && ++node_report_tick >= admin::kNodeReportInterval.count()) {
      node_report_tick = 0;
      ReportNode();
    }
    // Notice edits in events_dir (cheap: one directory listing a second).
    bool changed = false;
    {
      MutexLock rl(reload_mu);
      changed = DirectorySignature(snapshot->server.events_dir) != events_signature;
    }
    if (changed) {
      spdlog::info("change detected in {}: reloading", snapshot->server.events_dir.string());
      Reload();
    }
  }
}

int OriginServer::Run() {
  Impl& s = *impl_;
  const uint32_t configured = s.snapshot->server.threads;
  const unsigned threads =
      configured ? configured : std::max(1u, std::thread::hardware_concurrency());

  {
    net::signal_set signals(*s.ioc, SIGINT, SIGTERM, SIGHUP);
    std::function<void()> wait_signal;
    bool draining = false;
    net::steady_timer drain_timer(*s.ioc);
    auto drain_deadline = std::chrono::steady_clock::now();
    std::function<void()> check_drained = [&] {
      const uint64_t active = s.main_listener->state().active_requests.load() +
                              s.admin_listener->state().active_requests.load();
      if (active == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
        if (active) spdlog::warn("drain deadline reached with {} request(s) in flight", active);
        s.ioc->stop();
        return;
      }
      drain_timer.expires_after(std::chrono::milliseconds(20));
      drain_timer.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) check_drained();
      });
    };
    wait_signal = [&] {
      signals.async_wait([&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (signo == SIGHUP) {
          spdlog::info("SIGHUP: reloading events");
          s.workers->Post([this] { ReloadEvents(); });  // file I/O: not on a network thread
          wait_signal();
          return;
        }
        if (draining) {
          spdlog::warn("second stop signal: exiting now");
          s.ioc->stop();
          return;
        }
        draining = true;
        spdlog::info("{}: draining (no new connections, finishing in-flight requests)",
                     signo == SIGTERM ? "SIGTERM" : "SIGINT");
        s.origin->SetDraining(true);
        s.main_listener->Drain();
        s.admin_listener->Drain();
        // Uploads in progress may take up to a segment duration; bound the wait.
        drain_deadline = std::chrono::steady_clock::now() + s.snapshot->server.limits.drain_timeout;
        check_drained();
        wait_signal();
      });
    };
    wait_signal();

    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { s.ioc->run(); });
    spdlog::info("serving with {} worker thread(s){}", pool.size() + 1,
                 configured ? "" : " (threads: 0 = one per core)");
    s.ioc->run();
    for (auto& t : pool) t.join();
  }  // signals and timers on the io_context go before it does
  s.Shutdown();

  if (Status st = s.rocks ? s.rocks->SyncWal() : Status::Ok(); !st.ok()) {
    spdlog::error("syncing the write-ahead log on shutdown failed: {}", st.ToString());
  }
  spdlog::info("stopped cleanly");
  return kExitOk;
}

}  // namespace liveorigin::server
