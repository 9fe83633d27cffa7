// TaskRunner: where blocking work goes (storage reads and writes, hashing,
// media inspection), so that no network thread ever waits on it. Production
// runs a bounded pool of worker threads; tests run tasks inline or by hand.
// Implementations are thread-safe.
#pragma once

#include <functional>

namespace liveorigin::core {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // Runs `task` soon, on some worker thread. Tasks must not block on each other.
  virtual void Post(std::function<void()> task) = 0;
};

// Runs every task at once on the calling thread (tests, tools).
class InlineTaskRunner final : public TaskRunner {
 public:
  void Post(std::function<void()> task) override { task(); }
};

}  // namespace liveorigin::core
