// EventRegistry: the set of configured events and their runtime state.
// Reload swaps configurations atomically while keeping each event's state.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "liveorigin/common/thread_annotations.h"
#include "liveorigin/config/config.h"
#include "liveorigin/core/live_event.h"
#include "liveorigin/storage/segment_store.h"

namespace liveorigin::core {

class EventRegistry {
 public:
  explicit EventRegistry(std::shared_ptr<storage::SegmentStore> store);

  // Makes `events` the configured set: events that stay keep their state and
  // get the new configuration, new ones start empty, missing ones stop being
  // served (their stored data ages out through retention).
  void Apply(const std::vector<config::EventConfig>& events);

  // Rebuilds candidates and sticky selections from the store (start-up).
  // Records of events that are not configured are counted and skipped.
  Status Rebuild(size_t* restored, size_t* skipped);

  std::shared_ptr<LiveEvent> Find(std::string_view id) const;
  std::vector<std::shared_ptr<LiveEvent>> All() const;

  // Events configured before but not now; their stored data ages out through
  // retention with their last configuration.
  std::vector<std::pair<std::string, std::shared_ptr<LiveEvent>>> RetiredEvents() const;

 private:
  std::shared_ptr<storage::SegmentStore> store_;
  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<LiveEvent>, std::less<>> events_ GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<LiveEvent>, std::less<>> retired_ GUARDED_BY(mu_);
};

}  // namespace liveorigin::core
