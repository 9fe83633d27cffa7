#include "liveorigin/core/event_registry.h"

#include <spdlog/spdlog.h>

namespace liveorigin::core {

EventRegistry::EventRegistry(std::shared_ptr<storage::SegmentStore> store)
    : store_(std::move(store)) {}

void EventRegistry::Apply(const std::vector<config::EventConfig>& events) {
  MutexLock lock(mu_);
  std::map<std::string, std::shared_ptr<LiveEvent>, std::less<>> next;
  for (const auto& cfg : events) {
    auto shared = std::make_shared<const config::EventConfig>(cfg);
    std::shared_ptr<LiveEvent> event;
    if (auto it = events_.find(cfg.id); it != events_.end()) {
      event = it->second;
    } else if (auto r = retired_.find(cfg.id); r != retired_.end()) {
      event = r->second;
      retired_.erase(r);
    }
    if (event) {
      event->UpdateConfig(std::move(shared));
    } else {
      event = std::make_shared<LiveEvent>(std::move(shared), store_);
    }
    next.emplace(cfg.id, std::move(event));
  }
  for (auto& [id, event] : events_) {
    if (!next.count(id)) {
      spdlog::info("event {} is no longer configured: ingest and delivery stop; its data ages out",
                   id);
      retired_[id] = event;
    }
  }
  events_ = std::move(next);
}

Status EventRegistry::Rebuild(size_t* restored, size_t* skipped) {
  *restored = 0;
  *skipped = 0;
  std::map<std::string, size_t> unknown;
  Status st = store_->ForEachCandidate([&](storage::CandidateRecord&& record) {
    auto event = Find(record.id.event);
    if (!event) {
      ++unknown[record.id.event];
      ++*skipped;
      return;
    }
    Body init_body;
    if (record.kind == storage::ObjectKind::kInit) {
      auto body = store_->GetBody(record.id);
      if (body.ok()) init_body = *body;
    }
    event->Restore(std::move(record), init_body);
    ++*restored;
  });
  if (!st.ok()) return st;
  for (const auto& [id, n] : unknown) {
    spdlog::warn("store holds {} candidates of event '{}', which is not configured", n, id);
  }
  return store_->ForEachSelection([&](storage::SelectionRecord&& s) {
    if (auto event = Find(s.event)) event->RestoreSelection(s);
  });
}

std::shared_ptr<LiveEvent> EventRegistry::Find(std::string_view id) const {
  MutexLock lock(mu_);
  auto it = events_.find(id);
  return it == events_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<LiveEvent>> EventRegistry::All() const {
  MutexLock lock(mu_);
  std::vector<std::shared_ptr<LiveEvent>> out;
  for (const auto& [id, e] : events_) out.push_back(e);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<LiveEvent>>> EventRegistry::RetiredEvents()
    const {
  MutexLock lock(mu_);
  return {retired_.begin(), retired_.end()};
}

}  // namespace liveorigin::core
