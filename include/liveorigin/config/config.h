// The origin's configuration: one server file and one file per event.
//
// Plain values; a loaded configuration is immutable and shared between threads
// through std::shared_ptr<const ...>. Every default is stated next to its field
// and documented in docs/configuration.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "liveorigin/config/segment_template.h"

namespace liveorigin::config {

using std::chrono::milliseconds;

struct Endpoint {
  std::string host;              // "0.0.0.0", "127.0.0.1", "::1" (brackets stripped)
  uint16_t port = 0;             // 0 = pick a free port (tests)
  std::string ToString() const;  // "host:port", IPv6 in brackets
};

struct Limits {
  uint64_t max_object_size = 64ull << 20;  // 64MiB; larger PUT bodies get 413
  uint64_t max_header_size = 16ull << 10;  // 16KiB; larger request heads get 431
  milliseconds idle_timeout{30000};        // keep-alive idle, and max gap between body bytes
  uint32_t max_connections = 10000;        // concurrent connections on the main listener
  uint32_t max_held_requests = 100000;     // concurrent held GETs, all events; beyond: 503
  uint32_t max_inflight_requests = 20000;  // above this, GETs far behind the live edge are shed
  // Shedding spares the live edge: only GETs more than this many segments
  // behind it are refused while overloaded.
  uint32_t shed_behind_segments = 3;
  // Storage slower than this (recent average per operation) also counts as
  // overload. 0 = never shed on storage latency.
  milliseconds max_storage_latency{500};
  // Threads for blocking work (storage, hashing, inspection); 0 = two per core,
  // at least 4: storage calls block, so more threads than cores keep it busy.
  uint32_t worker_threads = 0;
  // SIGTERM: how long in-flight requests (uploads take up to a segment
  // duration) may take to finish before the process exits anyway.
  milliseconds drain_timeout{10000};
  // PUTs are refused with 507 while data_dir's filesystem has less free space
  // than this (plus the object): the store never runs into a full disk. 0 = off.
  uint64_t min_free_disk = 256ull << 20;  // 256MiB
};

struct LogConfig {
  std::string level = "info";   // trace, debug, info, warn, error, off
  std::string format = "text";  // text | json
  bool access_log = false;      // one line per request at info
};

struct CorsConfig {
  // Access-Control-Allow-Origin: {"*"} = any origin; a list of origins
  // (scheme://host[:port]) = those, echoed with Vary: Origin; empty = no CORS.
  std::vector<std::string> allow_origins = {"*"};
};

// Scale-out over a NATS JetStream cluster (SPEC §10).
struct NatsStorageConfig {
  std::vector<std::string> servers;  // nats://host:port; required with engine: nats
  uint32_t replicas = 3;             // of the body stream and the KV bucket, 1..5
  std::string prefix =
      "liveorigin";  // names of the stream, bucket and subjects; [A-Za-z0-9_-]{1,32}
  // Each request to NATS (a publish acknowledgement, a KV read or write).
  milliseconds timeout{2000};
  // A held GET re-reads the store this often, in case the notification of
  // the PUT it waits for was lost. 10ms..60s.
  milliseconds recheck{250};
};

struct StorageConfig {
  std::string engine = "rocksdb";  // rocksdb | nats
  NatsStorageConfig nats;
  bool shared() const { return engine == "nats"; }
};

struct ServerConfig {
  Endpoint listen{"0.0.0.0", 8080};
  Endpoint admin_listen{"127.0.0.1", 9090};
  std::filesystem::path data_dir = "./data";  // relative paths: relative to the working directory
  std::filesystem::path events_dir = "./config/events";
  uint32_t threads = 0;              // 0 = one per core
  uint64_t cache_size = 1ull << 30;  // 1GiB hot object cache
  // Hot bodies of 16 KiB and more are also kept in memory files and sent with
  // sendfile (no copy through user space): at most this many bytes, 128 files.
  uint64_t sendfile_cache = 128ull << 20;
  bool sync_writes = false;  // fsync the WAL before acknowledging a PUT
  Limits limits;
  LogConfig log;
  // When set (admin_token, admin_token_file or admin_token_env), /admin/* and
  // /metrics require "Authorization: Bearer <token>"; /healthz and /readyz stay open.
  std::optional<std::string> admin_token;
  // This node's name in CMSD (`n`), audit entries and logs: [A-Za-z0-9._-]{1,64}.
  // The loader fills in the host name when the file has none.
  // `storage.nats.node` sets it too (both may be given only when equal).
  std::string node_name = "liveorigin";
  CorsConfig cors;
  StorageConfig storage;
  std::filesystem::path source_file;  // the file this was loaded from
};

struct PipelineConfig {
  std::string id;  // [A-Za-z0-9._-]{1,64}
  // From `token`, `token_file` (first line of the file) or `token_env`;
  // absent: no credential for this pipeline.
  std::optional<std::string> token;
};

struct EventConfig {
  std::string id;  // URL prefix; [A-Za-z0-9._-]{1,64}, not "admin"
  std::chrono::system_clock::time_point availability_start_time{};  // default: Unix epoch
  uint64_t start_number = 0;
  milliseconds segment_duration{0};       // required, > 0
  milliseconds dvr_window{7200000};       // 2h
  SegmentTemplate media_template;         // required; must contain $Number$
  SegmentTemplate init_template;          // optional; must not contain $Number$
  std::vector<PipelineConfig> pipelines;  // required, >= 1; list order = priority
  milliseconds hold_max_wait{3000};       // hold.max_wait
  milliseconds preferred_grace{500};
  uint32_t ingest_ahead = 2;
  milliseconds manifest_max_age{1000};  // cache_control.manifest_max_age
  // SPEC §9: uploads in progress are visible to GETs as they arrive.
  bool low_latency = false;
  std::filesystem::path source_file;

  bool AnyPipelineHasToken() const;
  // Index in `pipelines` (the priority, 0 = most preferred), or -1.
  int PipelineIndex(std::string_view pipeline_id) const;
};

// One problem in one file, pointing at the offending node.
struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when not tied to a position
  int column = 0;  // 1-based
  std::string message;
  std::string ToString() const;  // "file:line:col: message"
};

}  // namespace liveorigin::config
