#include "liveorigin/core/wait_list.h"

#include <algorithm>

namespace liveorigin::core {

uint64_t WaitList::Add(const std::string& rendition, uint64_t number, Wake wake) {
  const uint64_t id = next_id_++;
  waiters_[{rendition, number}].push_back(Waiter{id, std::move(wake)});
  ++size_;
  return id;
}

void WaitList::Remove(const std::string& rendition, uint64_t number, uint64_t id) {
  auto it = waiters_.find({rendition, number});
  if (it == waiters_.end()) return;
  auto& v = it->second;
  const auto end = std::remove_if(v.begin(), v.end(), [id](const Waiter& w) { return w.id == id; });
  size_ -= static_cast<size_t>(v.end() - end);
  v.erase(end, v.end());
  if (v.empty()) waiters_.erase(it);
}

std::vector<WaitList::Wake> WaitList::Take(const std::string& rendition, uint64_t number) {
  std::vector<Wake> out;
  auto it = waiters_.find({rendition, number});
  if (it == waiters_.end()) return out;
  out.reserve(it->second.size());
  for (auto& w : it->second) out.push_back(std::move(w.wake));
  size_ -= it->second.size();
  waiters_.erase(it);
  return out;
}

}  // namespace liveorigin::core
