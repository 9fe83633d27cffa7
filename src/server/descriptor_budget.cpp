#include "descriptor_budget.h"

#include <dirent.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace liveorigin::server {

namespace {

uint64_t FromRlim(rlim_t v) { return v == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(v); }

// The kernel's ceiling for RLIMIT_NOFILE (fs.nr_open), used when the hard
// limit is "unlimited": setrlimit refuses anything above it.
uint64_t KernelDescriptorCeiling() {
  uint64_t nr_open = 0;
  std::ifstream in("/proc/sys/fs/nr_open");
  if (in >> nr_open && nr_open > 0) return nr_open;
  return 1 << 20;  // the kernel's default for fs.nr_open
}

}  // namespace

DescriptorLimit RaiseDescriptorLimit() {
  DescriptorLimit out;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    out.error = std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
    return out;
  }
  out.soft_before = out.soft = FromRlim(rl.rlim_cur);
  out.hard = FromRlim(rl.rlim_max);
  const rlim_t target =
      rl.rlim_max == RLIM_INFINITY ? static_cast<rlim_t>(KernelDescriptorCeiling()) : rl.rlim_max;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= target) return out;
  rlimit raised = rl;
  raised.rlim_cur = target;
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    out.error = std::string("setrlimit(RLIMIT_NOFILE, ") + std::to_string(target) +
                "): " + std::strerror(errno);
    return out;
  }
  out.soft = static_cast<uint64_t>(target);
  return out;
}

Result<DescriptorBudget> PlanDescriptors(uint64_t soft_limit, uint32_t configured_max_connections) {
  const uint64_t needed = uint64_t{kReservedDescriptors} + kMinMainConnections;
  if (soft_limit < needed) {
    return Status::InvalidArgument(
        "the open-file limit (RLIMIT_NOFILE) is " + std::to_string(soft_limit) +
        " descriptors; liveorigin needs at least " + std::to_string(needed) + " (" +
        std::to_string(kReservedDescriptors) +
        " reserved for storage, reloads, the admin port and memory files of hot bodies, and " +
        std::to_string(kMinMainConnections) +
        " connections): raise it (docker run --ulimit nofile=65536:65536, systemd "
        "LimitNOFILE=65536, or ulimit -n before starting)");
  }
  DescriptorBudget budget;
  budget.limit = soft_limit;
  const uint64_t fit = soft_limit - kReservedDescriptors;
  budget.max_connections = configured_max_connections;
  if (fit < configured_max_connections) {
    budget.max_connections = static_cast<uint32_t>(fit);
    budget.capped = true;
  }
  return budget;
}

uint64_t CurrentDescriptorLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return UINT64_MAX;
  return FromRlim(rl.rlim_cur);
}

std::optional<uint64_t> CountOpenDescriptors() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  uint64_t n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // not counting the directory's own descriptor
}

}  // namespace liveorigin::server
