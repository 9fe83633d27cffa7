// Scheduler: runs a function after a delay, on some worker thread. Lets request
// logic hold requests without blocking a thread and without knowing Asio.
// Implementations are thread-safe.
#pragma once

#include <functional>

#include "liveorigin/common/clock.h"

namespace liveorigin::core {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual void RunAfter(Millis delay, std::function<void()> fn) = 0;
};

}  // namespace liveorigin::core
