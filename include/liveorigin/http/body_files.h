// BodyFiles: in-memory files (memfd) holding copies of hot object bodies, so
// a GET's body goes to the socket with sendfile(2): the kernel hands the
// file's pages to the socket instead of copying the bytes in from user space,
// as nginx does with files in the page cache.
//
// A body is an immutable shared string (core::Body); its file is made on the
// first request that sends it and shared by every later one. The set is
// bounded twice: in bytes (each file is a second copy of a body that the body
// cache also holds) and in files (each is a descriptor). Files of bodies that
// nothing references any more are dropped first, then the least recently used.
//
// Thread-safe. Linux only (memfd_create, sealed files).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "liveorigin/common/thread_annotations.h"
#include "liveorigin/core/http_message.h"

namespace liveorigin::http {

// One sealed memory file: its size can no longer change, nor its bytes.
class BodyFile {
 public:
  // The file, or null when it cannot be made (no descriptor or memory left).
  static std::shared_ptr<const BodyFile> Make(const std::string& bytes);
  ~BodyFile();
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }

 private:
  BodyFile(int fd, uint64_t size) : fd_(fd), size_(size) {}
  const int fd_;
  const uint64_t size_;
};

class BodyFiles {
 public:
  // Smaller bodies are copied to the socket: the copy is cheaper than a file.
  static constexpr uint64_t kMinBodySize = uint64_t{16} * 1024;
  // Descriptors the set may hold at once (the server reserves them).
  static constexpr uint32_t kMaxFiles = 128;

  explicit BodyFiles(uint64_t capacity_bytes, uint32_t max_files = kMaxFiles)
      : capacity_(capacity_bytes), max_files_(max_files) {}

  // The file holding `body`'s bytes, made on first use; null when the body is
  // smaller than kMinBodySize, larger than a quarter of the capacity, or its
  // file could not be made: then the caller sends it from memory.
  std::shared_ptr<const BodyFile> Find(const core::Body& body);

  uint64_t bytes() const;
  size_t files() const;
  uint64_t made() const;    // files made since start
  uint64_t failed() const;  // files that could not be made

 private:
  struct Entry {
    // Identifies the body: the key is its address, and an address can be
    // reused once the body is gone.
    std::weak_ptr<const std::string> body;
    std::shared_ptr<const BodyFile> file;
    std::list<const std::string*>::iterator lru;
  };
  void EraseLocked(std::unordered_map<const std::string*, Entry>::iterator it) REQUIRES(mu_);
  // Drops files of bodies no longer referenced, then least recently used ones,
  // until `incoming` more bytes and one more file fit.
  void MakeRoomLocked(uint64_t incoming) REQUIRES(mu_);

  const uint64_t capacity_;
  const uint32_t max_files_;
  mutable Mutex mu_;
  std::unordered_map<const std::string*, Entry> entries_ GUARDED_BY(mu_);
  std::list<const std::string*> lru_ GUARDED_BY(mu_);  // front = most recent
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t made_ GUARDED_BY(mu_) = 0;
  uint64_t failed_ GUARDED_BY(mu_) = 0;
};

}  // namespace liveorigin::http
