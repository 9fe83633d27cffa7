#include "liveorigin/core/live_body.h"

namespace liveorigin::core {

LiveBody::LiveBody(Limits limits) : limits_(limits) {}

std::vector<LiveBody::Notify> LiveBody::TakeSubscribersLocked() {
  std::vector<Notify> out;
  out.reserve(subscribers_.size());
  for (auto& [id, notify] : subscribers_) out.push_back(std::move(notify));
  subscribers_.clear();
  return out;
}

bool LiveBody::Append(std::string_view bytes, std::vector<Notify>* to_notify) {
  if (bytes.empty()) return true;
  MutexLock lock(mu_);
  if (state_ != State::kGrowing) return false;
  if (size_ + bytes.size() > limits_.max_bytes || chunks_.size() >= limits_.max_chunks) {
    state_ = State::kFailed;
    failure_ = size_ + bytes.size() > limits_.max_bytes ? "upload exceeds max_object_size"
                                                        : "upload arrived in too many pieces";
    *to_notify = TakeSubscribersLocked();
    return false;
  }
  if (chunks_.empty()) first_byte_ = std::chrono::steady_clock::now();
  chunks_.push_back(std::make_shared<const std::string>(bytes));
  size_ += bytes.size();
  *to_notify = TakeSubscribersLocked();
  return true;
}

void LiveBody::Complete(std::vector<Notify>* to_notify) {
  MutexLock lock(mu_);
  if (state_ != State::kGrowing) return;
  state_ = State::kComplete;
  *to_notify = TakeSubscribersLocked();
}

void LiveBody::Fail(std::string reason, std::vector<Notify>* to_notify) {
  MutexLock lock(mu_);
  if (state_ != State::kGrowing) return;
  state_ = State::kFailed;
  failure_ = std::move(reason);
  *to_notify = TakeSubscribersLocked();
}

LiveBody::State LiveBody::Read(size_t from, size_t max_chunks, uint64_t max_bytes,
                               std::vector<Body>* out) const {
  MutexLock lock(mu_);
  uint64_t bytes = 0;
  for (size_t i = from; i < chunks_.size() && i - from < max_chunks; ++i) {
    if (i > from && bytes + chunks_[i]->size() > max_bytes) break;
    bytes += chunks_[i]->size();
    out->push_back(chunks_[i]);
  }
  return state_;
}

uint64_t LiveBody::Subscribe(size_t from, Notify notify) {
  MutexLock lock(mu_);
  if (state_ != State::kGrowing || from < chunks_.size()) return 0;
  const uint64_t id = next_id_++;
  subscribers_.emplace(id, std::move(notify));
  return id;
}

void LiveBody::Unsubscribe(uint64_t id) {
  MutexLock lock(mu_);
  subscribers_.erase(id);
}

LiveBody::State LiveBody::state() const {
  MutexLock lock(mu_);
  return state_;
}

uint64_t LiveBody::size() const {
  MutexLock lock(mu_);
  return size_;
}

std::string LiveBody::failure() const {
  MutexLock lock(mu_);
  return failure_;
}

std::chrono::steady_clock::time_point LiveBody::first_byte() const {
  MutexLock lock(mu_);
  return first_byte_;
}

}  // namespace liveorigin::core
