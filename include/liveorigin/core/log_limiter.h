// LogLimiter: keeps a storm of similar warnings (a packager hammering with a
// wrong token, a failing disk) from flooding the log. Per key, at most `burst`
// lines per `window`; the first line after a quiet period reports how many
// were suppressed. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "liveorigin/common/thread_annotations.h"

namespace liveorigin::core {

class LogLimiter {
 public:
  explicit LogLimiter(uint32_t burst = 20,
                      std::chrono::steady_clock::duration window = std::chrono::seconds(10))
      : burst_(burst), window_(window) {}

  // True when a line for `key` may be written now. `*suppressed` receives the
  // number of lines dropped for this key since the last one allowed.
  bool Allow(std::string_view key, uint64_t* suppressed,
             std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // The process-wide limiter used by request logic.
  static LogLimiter& Shared();

 private:
  struct Bucket {
    std::chrono::steady_clock::time_point window_start{};
    uint32_t used = 0;
    uint64_t dropped = 0;
  };
  const uint32_t burst_;
  const std::chrono::steady_clock::duration window_;
  Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);  // bounded below
};

}  // namespace liveorigin::core
