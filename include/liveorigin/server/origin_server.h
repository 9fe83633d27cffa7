// OriginServer: wires configuration, storage, the event registry, the request
// services and the listeners together, and runs them until told to stop.
// The only component that knows every other one.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "liveorigin/common/status.h"
#include "liveorigin/config/config_loader.h"

namespace liveorigin::server {

enum ExitCode { kExitOk = 0, kExitBadConfig = 1, kExitStorageOrBind = 2 };

class OriginServer {
 public:
  // REQUIRES: `snapshot` was validated by config::LoadSnapshot.
  OriginServer(std::filesystem::path config_file, std::shared_ptr<const config::Snapshot> snapshot);
  ~OriginServer();

  // Opens the store, rebuilds state, binds both listeners. On failure returns
  // the exit code to use (kExitStorageOrBind) after logging what to fix.
  int Start();
  // Serves until SIGTERM/SIGINT; then drains and returns kExitOk.
  int Run();
  // Re-reads events_dir; returns the errors (empty = applied).
  std::vector<std::string> ReloadEvents();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sets up spdlog on stderr per `log` (text or one JSON object per line).
void ConfigureLogging(const config::LogConfig& log);

}  // namespace liveorigin::server
