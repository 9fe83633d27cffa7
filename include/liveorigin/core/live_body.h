// LiveBody: the bytes of one upload while it arrives (SPEC §9), as a list of
// immutable chunks shared by every reader: a reader holds references to the
// chunks it is writing, never a copy. One writer appends; any number of
// readers read from an index and subscribe to be told when more is there.
//
// Thread-safe. Notifications are handed back to the writer (Append, Complete,
// Fail fill `to_notify`) to run after it released its locks, so a writer can
// spread them over other threads (OriginService wakes them in bursts).
//
// Bounded: at most `max_bytes` bytes and `max_chunks` chunks; past either, the
// body fails (its readers end without the terminating chunk).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "liveorigin/common/thread_annotations.h"
#include "liveorigin/core/http_message.h"

namespace liveorigin::core {

class LiveBody {
 public:
  enum class State {
    kGrowing,   // more bytes may come
    kComplete,  // the upload was stored clean: readers end the answer normally
    kFailed,    // cut off, stalled or corrupt: readers close without the last chunk
  };
  using Notify = std::function<void()>;

  struct Limits {
    uint64_t max_bytes = 64ull << 20;
    size_t max_chunks = 65536;
  };

  explicit LiveBody(Limits limits);

  // Writer side. Append returns false (and fails the body) past a limit, or
  // when the body has already ended.
  bool Append(std::string_view bytes, std::vector<Notify>* to_notify);
  void Complete(std::vector<Notify>* to_notify);
  void Fail(std::string reason, std::vector<Notify>* to_notify);

  // Reader side. Appends to *out the chunks from index `from` on, at most
  // `max_chunks` of them and stopping once `max_bytes` are collected (at least
  // one chunk when one is there). Returns the state as of that read: a reader
  // that got no chunk and sees kComplete has everything.
  State Read(size_t from, size_t max_chunks, uint64_t max_bytes, std::vector<Body>* out) const;
  // Registers `notify` to run once when chunk `from` exists or the body
  // ends. Returns 0 without registering when that is already so (read
  // again); else an id for Unsubscribe.
  uint64_t Subscribe(size_t from, Notify notify);
  void Unsubscribe(uint64_t id);

  State state() const;
  uint64_t size() const;
  std::string failure() const;
  // When the first byte arrived (steady clock; zero before).
  std::chrono::steady_clock::time_point first_byte() const;

 private:
  std::vector<Notify> TakeSubscribersLocked() REQUIRES(mu_);

  const Limits limits_;
  mutable Mutex mu_;
  std::vector<Body> chunks_ GUARDED_BY(mu_);
  uint64_t size_ GUARDED_BY(mu_) = 0;
  State state_ GUARDED_BY(mu_) = State::kGrowing;
  std::string failure_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point first_byte_ GUARDED_BY(mu_){};
  std::map<uint64_t, Notify> subscribers_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
};

// One GET following a LiveBody: what the session streams, plus the hooks the
// request logic wants (first byte sent, end). The session owns it for the
// length of the answer; `on_end` runs when it is destroyed.
class LiveFollower {
 public:
  LiveFollower(std::shared_ptr<LiveBody> body, std::function<void()> on_first_byte,
               std::function<void()> on_end)
      : body_(std::move(body)),
        on_first_byte_(std::move(on_first_byte)),
        on_end_(std::move(on_end)) {}
  ~LiveFollower() {
    if (on_end_) on_end_();
  }
  LiveFollower(const LiveFollower&) = delete;
  LiveFollower& operator=(const LiveFollower&) = delete;

  LiveBody& body() const { return *body_; }
  const std::shared_ptr<LiveBody>& shared_body() const { return body_; }
  // Call once, when the first body bytes were written.
  void FirstByteSent() {
    if (on_first_byte_) std::exchange(on_first_byte_, nullptr)();
  }

 private:
  std::shared_ptr<LiveBody> body_;
  std::function<void()> on_first_byte_;
  std::function<void()> on_end_;
};

}  // namespace liveorigin::core
