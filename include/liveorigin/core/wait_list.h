// WaitList: held GETs waiting for one segment, keyed by (rendition, number).
// A waiter is a one-shot function; Take hands a key's waiters to the caller,
// which runs them after releasing its locks.
//
// Not thread-safe: LiveEvent guards it with its mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace liveorigin::core {

class WaitList {
 public:
  using Wake = std::function<void()>;

  // Returns an id for Remove.
  uint64_t Add(const std::string& rendition, uint64_t number, Wake wake);
  void Remove(const std::string& rendition, uint64_t number, uint64_t id);
  // Removes and returns every waiter of the key, in arrival order.
  std::vector<Wake> Take(const std::string& rendition, uint64_t number);

  size_t size() const { return size_; }

 private:
  struct Waiter {
    uint64_t id;
    Wake wake;
  };
  std::map<std::pair<std::string, uint64_t>, std::vector<Waiter>> waiters_;
  uint64_t next_id_ = 1;
  size_t size_ = 0;
};

}  // namespace liveorigin::core
