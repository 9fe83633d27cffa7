// How liveorigin shares the process's open-file limit (RLIMIT_NOFILE) between
// client connections and everything else that needs a descriptor.
//
// Every connection is a descriptor. When connections take them all, RocksDB
// cannot open a table file, a reload cannot list events_dir and the admin port
// cannot answer /readyz. So a fixed reserve is kept out of reach of the main
// listener: its connections only ever hold descriptor numbers below
// (soft limit - kReservedDescriptors), and the admin listener's stay below
// (soft limit - kReservedBelowAdmin). Private to the server module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "liveorigin/common/status.h"
#include "liveorigin/http/body_files.h"

namespace liveorigin::server {

// RocksDB keeps at most this many table and blob files open
// (rocksdb max_open_files). Reads of files outside the set reopen them, so it
// bounds descriptors, not data: 256 blob files of 256 MiB cover a 64 GiB DVR
// window without a reopen.
inline constexpr uint32_t kStorageMaxOpenFiles = 256;
// What RocksDB opens besides its table cache: WAL, MANIFEST, LOCK, info LOG,
// flush and compaction outputs of its two background jobs, directory syncs.
inline constexpr uint32_t kStorageWorkingDescriptors = 32;
// A reload lists events_dir and reads one event file (and its token_file) at a
// time; the once-a-second change check lists the directory too.
inline constexpr uint32_t kReloadDescriptors = 16;
// Connections on admin_listen: health probes, Prometheus and operators' curl
// need a handful; beyond this the admin port answers 503.
inline constexpr uint32_t kAdminMaxConnections = 64;
// Memory files of hot bodies the main listener sends with sendfile.
inline constexpr uint32_t kSendfileDescriptors = http::BodyFiles::kMaxFiles;
// stdio, epoll, eventfd, timerfd, the signal pipe, the two listening sockets,
// /proc reads for /metrics, and a connection being refused at the limit.
inline constexpr uint32_t kProcessDescriptors = 32;

// Everything but main-listener connections.
inline constexpr uint32_t kReservedDescriptors = kStorageMaxOpenFiles + kStorageWorkingDescriptors +
                                                 kReloadDescriptors + kAdminMaxConnections +
                                                 kSendfileDescriptors + kProcessDescriptors;
// What admin connections may not take: the reload and process shares. Floods
// arrive on the main listener, which keeps off the whole reserve; the admin
// port takes at most kAdminMaxConnections, and its probes and reloads must
// still get through when the limit is lowered far below the plan (prlimit).
inline constexpr uint32_t kReservedBelowAdmin = kReloadDescriptors + kProcessDescriptors;
// Below this many main-listener connections the server is not worth starting:
// the limit is a misconfiguration, not a capacity choice.
inline constexpr uint32_t kMinMainConnections = 64;

struct DescriptorLimit {
  uint64_t soft_before = 0;  // soft limit found at start
  uint64_t soft = 0;         // soft limit now (the hard one unless raising failed)
  uint64_t hard = 0;
  std::string error;  // why raising failed; empty when it did not
};

// Raises the soft RLIMIT_NOFILE to the hard limit (to fs.nr_open when the hard
// limit is unlimited) and reports both.
DescriptorLimit RaiseDescriptorLimit();

struct DescriptorBudget {
  uint64_t limit = 0;            // the soft limit planned for
  uint32_t max_connections = 0;  // effective main-listener max_connections
  bool capped = false;           // true when lower than the configured value
};

// Plans main-listener connections under `soft_limit`: at most
// soft_limit - kReservedDescriptors. InvalidArgument (naming the limit, what
// is needed and how to raise it) when fewer than kMinMainConnections fit.
Result<DescriptorBudget> PlanDescriptors(uint64_t soft_limit, uint32_t configured_max_connections);

// The soft RLIMIT_NOFILE now (UINT64_MAX when unlimited or unreadable).
uint64_t CurrentDescriptorLimit();

// Descriptors open in this process now (entries of /proc/self/fd); nullopt
// when they cannot be counted (e.g. no descriptor left to open the directory).
std::optional<uint64_t> CountOpenDescriptors();

}  // namespace liveorigin::server
