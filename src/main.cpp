// liveorigin: HTTP origin server for live video. Composition root only.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#if defined(LIVEORIGIN_JEMALLOC)
#include <jemalloc/jemalloc.h>
#endif

#include "liveorigin/config/config_loader.h"
#include "liveorigin/server/origin_server.h"

namespace {

// The allocator that is really serving malloc: jemalloc answers its own
// control interface only when it is linked in.
std::string AllocatorName() {
#if defined(LIVEORIGIN_JEMALLOC)
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl("version", static_cast<void*>(&version), &size, nullptr, 0) == 0 && version) {
    return std::string("jemalloc ") + version;
  }
  return "jemalloc (version unknown)";
#else
  return "system malloc";
#endif
}

int Main(int argc, char** argv) {
  using namespace liveorigin;
  CLI::App app{"liveorigin — HTTP origin for live video: packagers PUT segments, CDNs GET them"};
  std::string config_file = "config/origin.yaml";
  std::string check_file;
  bool show_version = false;
  app.add_option("-c,--config", config_file, "server configuration file")->capture_default_str();
  auto* check = app.add_option("--check-config", check_file,
                               "validate FILE (default: --config) and its events_dir, then exit "
                               "0 (valid) or 1 (invalid)")
                    ->expected(0, 1);
  app.add_flag("-V,--version", show_version, "print the version and exit");
  app.footer(
      "Exit codes: 0 clean stop, 1 bad configuration, 2 storage or bind failure.\n"
      "Signals: SIGTERM/SIGINT drain and stop; SIGHUP reloads the event files.");
  CLI11_PARSE(app, argc, argv);

  if (show_version) {
    std::printf("liveorigin %s (%s)\n", LIVEORIGIN_VERSION, AllocatorName().c_str());
    return 0;
  }
  const bool check_only = check->count() > 0;
  if (check_only && !check_file.empty()) config_file = check_file;

  std::vector<config::ConfigError> errors;
  auto snapshot = config::LoadSnapshot(config_file, &errors);
  if (!snapshot) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
    std::fprintf(stderr, "configuration invalid: %zu error(s); fix them and retry\n",
                 errors.size());
    return server::kExitBadConfig;
  }
  if (check_only) {
    std::printf("%s: OK (%zu event(s) in %s)\n", config_file.c_str(), snapshot->events.size(),
                snapshot->server.events_dir.c_str());
    return 0;
  }
  server::ConfigureLogging(snapshot->server.log);
  spdlog::info("liveorigin {} with {}", LIVEORIGIN_VERSION, AllocatorName());
  server::OriginServer origin(config_file, snapshot);
  if (int code = origin.Start(); code != server::kExitOk) return code;
  return origin.Run();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    // Nothing on the request path throws; this catches start-up surprises.
    std::fprintf(stderr, "liveorigin: unexpected error: %s\n", e.what());
    return 1;
  }
}
