#include "liveorigin/http/body_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace liveorigin::http {

std::shared_ptr<const BodyFile> BodyFile::Make(const std::string& bytes) {
  const int fd = ::memfd_create("liveorigin-body", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return nullptr;
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // out of memory (ENOSPC/ENOMEM): no file
      ::close(fd);
      return nullptr;
    }
    written += static_cast<size_t>(n);
  }
  // Nothing may change the bytes while sockets still reference its pages.
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    ::close(fd);
    return nullptr;
  }
  return std::shared_ptr<const BodyFile>(new BodyFile(fd, bytes.size()));
}

BodyFile::~BodyFile() { ::close(fd_); }

std::shared_ptr<const BodyFile> BodyFiles::Find(const core::Body& body) {
  if (!body || body->size() < kMinBodySize || body->size() > capacity_ / 4) return nullptr;
  {
    MutexLock lock(mu_);
    auto it = entries_.find(body.get());
    if (it != entries_.end()) {
      if (it->second.body.lock() == body) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return it->second.file;
      }
      EraseLocked(it);  // a body that died, its address now reused
    }
  }
  // Made without the lock (it copies the body); a racing request may make
  // the same file, and the first one inserted is kept.
  auto file = BodyFile::Make(*body);
  MutexLock lock(mu_);
  if (!file) {
    ++failed_;
    return nullptr;
  }
  auto it = entries_.find(body.get());
  if (it != entries_.end() && it->second.body.lock() == body) return it->second.file;
  if (it != entries_.end()) EraseLocked(it);
  ++made_;
  MakeRoomLocked(file->size());
  lru_.push_front(body.get());
  bytes_ += file->size();
  entries_.emplace(body.get(), Entry{body, file, lru_.begin()});
  return file;
}

void BodyFiles::EraseLocked(std::unordered_map<const std::string*, Entry>::iterator it) {
  bytes_ -= it->second.file->size();
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

void BodyFiles::MakeRoomLocked(uint64_t incoming) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (it->second.body.expired()) EraseLocked(it);
    it = next;
  }
  while (!lru_.empty() && (bytes_ + incoming > capacity_ || entries_.size() + 1 > max_files_)) {
    EraseLocked(entries_.find(lru_.back()));
  }
}

uint64_t BodyFiles::bytes() const {
  MutexLock lock(mu_);
  return bytes_;
}

size_t BodyFiles::files() const {
  MutexLock lock(mu_);
  return entries_.size();
}

uint64_t BodyFiles::made() const {
  MutexLock lock(mu_);
  return made_;
}

uint64_t BodyFiles::failed() const {
  MutexLock lock(mu_);
  return failed_;
}

}  // namespace liveorigin::http
