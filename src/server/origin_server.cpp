#include "liveorigin/server/origin_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <thread>

#include "liveorigin/core/admin_service.h"
#include "liveorigin/core/body_cache.h"
#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/origin_service.h"
#include "liveorigin/http/http_listener.h"
#include "liveorigin/metrics/origin_metrics.h"
#include "liveorigin/storage/rocksdb_segment_store.h"

namespace liveorigin::server {

namespace net = boost::asio;
namespace fs = std::filesystem;

namespace {

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

}  // namespace

struct OriginServer::Impl {
  fs::path config_file;
  std::shared_ptr<const config::Snapshot> snapshot;
  SystemClock clock;
  net::io_context ioc;
  std::unique_ptr<AsioScheduler> scheduler;
  std::shared_ptr<storage::RocksDbSegmentStore> store;
  std::unique_ptr<core::EventRegistry> registry;
  std::unique_ptr<core::BodyCache> cache;
  metrics::OriginMetrics metrics;
  std::unique_ptr<core::OriginService> origin;
  std::unique_ptr<core::AdminService> admin;
  std::shared_ptr<http::HttpListener> main_listener, admin_listener;
  std::mutex reload_mu;
  std::string events_signature;  // GUARDED_BY(reload_mu)

  // Background retention (SPEC §7): never on a request thread.
  std::thread retention_thread;
  std::mutex retention_mu;
  std::condition_variable retention_cv;
  bool stopping = false;  // GUARDED_BY(retention_mu)

  void RetentionLoop();
  void RunRetentionOnce();
  std::vector<std::string> Reload();
};

OriginServer::OriginServer(fs::path config_file, std::shared_ptr<const config::Snapshot> snapshot)
    : impl_(std::make_unique<Impl>()) {
  impl_->config_file = std::move(config_file);
  impl_->snapshot = std::move(snapshot);
}

OriginServer::~OriginServer() {
  if (impl_->retention_thread.joinable()) {
    {
      std::lock_guard lock(impl_->retention_mu);
      impl_->stopping = true;
    }
    impl_->retention_cv.notify_all();
    impl_->retention_thread.join();
  }
}

int OriginServer::Start() {
  Impl& s = *impl_;
  const config::ServerConfig& cfg = s.snapshot->server;
  auto opened =
      storage::RocksDbSegmentStore::Open({cfg.data_dir, cfg.sync_writes, cfg.limits.min_free_disk});
  if (!opened.ok()) {
    spdlog::critical(
        "{}; check that data_dir exists, is writable and not used by another "
        "liveorigin process",
        opened.status().message());
    return kExitStorageOrBind;
  }
  s.store = std::move(opened).value();
  s.registry = std::make_unique<core::EventRegistry>(s.store);
  s.registry->Apply(s.snapshot->events);
  size_t restored = 0, skipped = 0;
  if (Status st = s.registry->Rebuild(&restored, &skipped); !st.ok()) {
    spdlog::critical("cannot rebuild state from {}: {}", cfg.data_dir.string(), st.ToString());
    return kExitStorageOrBind;
  }
  s.cache = std::make_unique<core::BodyCache>(cfg.cache_size);
  s.scheduler = std::make_unique<AsioScheduler>(s.ioc);
  core::OriginOptions options;
  options.max_object_size = cfg.limits.max_object_size;
  options.max_held_requests = cfg.limits.max_held_requests;
  options.max_inflight_requests = cfg.limits.max_inflight_requests;
  options.access_log = cfg.log.access_log;
  s.origin = std::make_unique<core::OriginService>(*s.registry, *s.store, *s.cache, s.metrics,
                                                   s.clock, *s.scheduler, options);
  s.admin = std::make_unique<core::AdminService>(
      *s.registry, *s.store, s.metrics, s.clock, [this] { return ReloadEvents(); },
      cfg.admin_token);

  http::ListenerOptions main_opts;
  main_opts.name = "main";
  main_opts.max_header_size = cfg.limits.max_header_size;
  main_opts.idle_timeout = cfg.limits.idle_timeout;
  main_opts.max_connections = cfg.limits.max_connections;
  main_opts.max_discard_bytes = std::max<uint64_t>(cfg.limits.max_object_size * 4, 256ull << 20);
  auto main_listener = http::HttpListener::Start(s.ioc, cfg.listen, *s.origin, main_opts);
  if (!main_listener.ok()) {
    spdlog::critical("{}; change 'listen' in {} or stop the process using the port",
                     main_listener.status().message(), s.config_file.string());
    return kExitStorageOrBind;
  }
  s.main_listener = *main_listener;
  http::ListenerOptions admin_opts;
  admin_opts.name = "admin";
  admin_opts.idle_timeout = Millis(30000);
  admin_opts.max_connections = 256;
  auto admin_listener = http::HttpListener::Start(s.ioc, cfg.admin_listen, *s.admin, admin_opts);
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
    m.SetCache(s.cache->hits(), s.cache->misses(), s.cache->collapsed(), s.cache->bytes(),
               s.cache->capacity());
    m.SetStorageHealthy(s.store->Health().ok());
    m.SetConnections(s.main_listener->state().open_connections.load());
  });

  {
    std::lock_guard lock(s.reload_mu);
    s.events_signature = DirectorySignature(cfg.events_dir);
  }
  s.retention_thread = std::thread([&s] { s.RetentionLoop(); });

  spdlog::info("liveorigin {} started", LIVEORIGIN_VERSION);
  spdlog::info("listening on {} (packager PUT, CDN GET), admin on {}", s.main_listener->address(),
               s.admin_listener->address());
  spdlog::info("data_dir {} ({} candidates restored{}), sync_writes {}", cfg.data_dir.string(),
               restored, skipped ? ", " + std::to_string(skipped) + " of unconfigured events" : "",
               s.store->sync_writes());
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
  std::lock_guard lock(reload_mu);
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
    }
  };
  for (const auto& event : registry->All()) retire(event->config(), event, false);
  for (const auto& [id, event] : registry->RetiredEvents()) retire(event->config(), event, true);
}

void OriginServer::Impl::RetentionLoop() {
  std::unique_lock lock(retention_mu);
  while (!stopping) {
    retention_cv.wait_for(lock, std::chrono::seconds(1));
    if (stopping) break;
    lock.unlock();
    RunRetentionOnce();
    // Notice edits in events_dir (cheap: one directory listing a second).
    bool changed = false;
    {
      std::lock_guard rl(reload_mu);
      changed = DirectorySignature(snapshot->server.events_dir) != events_signature;
    }
    if (changed) {
      spdlog::info("change detected in {}: reloading", snapshot->server.events_dir.string());
      Reload();
    }
    lock.lock();
  }
}

int OriginServer::Run() {
  Impl& s = *impl_;
  const uint32_t configured = s.snapshot->server.threads;
  const unsigned threads =
      configured ? configured : std::max(1u, std::thread::hardware_concurrency());

  net::signal_set signals(s.ioc, SIGINT, SIGTERM, SIGHUP);
  std::function<void()> wait_signal;
  bool draining = false;
  net::steady_timer drain_timer(s.ioc);
  auto drain_deadline = std::chrono::steady_clock::now();
  std::function<void()> check_drained = [&] {
    const uint64_t active = s.main_listener->state().active_requests.load() +
                            s.admin_listener->state().active_requests.load();
    if (active == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
      if (active) spdlog::warn("drain deadline reached with {} request(s) in flight", active);
      s.ioc.stop();
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
        ReloadEvents();
        wait_signal();
        return;
      }
      if (draining) {
        spdlog::warn("second stop signal: exiting now");
        s.ioc.stop();
        return;
      }
      draining = true;
      spdlog::info("{}: draining (no new connections, finishing in-flight requests)",
                   signo == SIGTERM ? "SIGTERM" : "SIGINT");
      s.origin->SetDraining(true);
      s.main_listener->Drain();
      s.admin_listener->Drain();
      // Uploads in progress may take up to a segment duration; bound the wait.
      drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      check_drained();
      wait_signal();
    });
  };
  wait_signal();

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { s.ioc.run(); });
  spdlog::info("serving with {} worker thread(s){}", pool.size() + 1,
               configured ? "" : " (threads: 0 = one per core)");
  s.ioc.run();
  for (auto& t : pool) t.join();

  if (Status st = s.store->SyncWal(); !st.ok()) {
    spdlog::error("syncing the write-ahead log on shutdown failed: {}", st.ToString());
  }
  spdlog::info("stopped cleanly");
  return kExitOk;
}

}  // namespace liveorigin::server
