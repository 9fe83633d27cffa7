// Test support for low latency (SPEC §9): an upload sent as a chunked PUT in
// pieces the test controls, and a GET whose chunked answer is decoded as it
// arrives, so a test can see bytes reach a viewer before the upload ends, and
// tell an answer that ended with the terminating chunk from one cut off.
//
// Timing: every wait is bounded by a generous, scaled deadline and returns
// false when it passes; nothing measures a duration.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "test_daemon.h"

namespace liveorigin::testing {

// One TCP connection to the daemon, read with poll.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Close();
  }
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Appends what arrives to *buffer; false on EOF, error or deadline.
  bool ReadMore(std::string* buffer, std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || eof_) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer->append(buf, static_cast<size_t>(n));
    return true;
  }
  bool eof() const { return eof_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool eof_ = false;
};

inline std::chrono::steady_clock::time_point Deadline(std::chrono::milliseconds base = kPatience) {
  return std::chrono::steady_clock::now() + Scaled(base);
}

// Splits a media segment into the pieces a streaming packager sends: the
// boxes before the first moof, then one moof+mdat (+ anything up to the next
// moof) per piece.
inline std::vector<std::string> FramePieces(const std::string& seg) {
  std::vector<std::string> pieces;
  size_t start = 0, off = 0;
  while (off + 8 <= seg.size()) {
    const uint32_t size = (uint32_t(uint8_t(seg[off])) << 24) |
                          (uint32_t(uint8_t(seg[off + 1])) << 16) |
                          (uint32_t(uint8_t(seg[off + 2])) << 8) | uint32_t(uint8_t(seg[off + 3]));
    if (size < 8) break;
    if (seg.compare(off + 4, 4, "moof") == 0 && off > start) {
      pieces.push_back(seg.substr(start, off - start));
      start = off;
    }
    off += size;
  }
  pieces.push_back(seg.substr(start));
  return pieces;
}

// A chunked PUT sent piece by piece.
class PieceUpload {
 public:
  PieceUpload(uint16_t port, const std::string& target, const std::string& pipeline) : conn_(port) {
    started_ =
        conn_.Send("PUT " + target + " HTTP/1.1\r\nHost: origin\r\nX-Live-Pipeline: " + pipeline +
                   "\r\nTransfer-Encoding: chunked\r\n\r\n");
  }
  bool started() const { return started_; }
  bool Send(const std::string& piece) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%zx\r\n", piece.size());
    return conn_.Send(std::string(hex) + piece + "\r\n");
  }
  // Ends the body and reads the status of the answer (0 when none came).
  int Finish() {
    if (!conn_.Send("0\r\n\r\n")) return 0;
    const auto deadline = Deadline();
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!conn_.ReadMore(&buffer_, deadline)) return 0;
    }
    return buffer_.size() >= 12 ? std::stoi(buffer_.substr(9, 3)) : 0;
  }
  // Cuts the connection in the middle of the body.
  void Cut() { conn_.Close(); }

 private:
  RawConnection conn_;
  std::string buffer_;
  bool started_ = false;
};

// A GET whose (possibly chunked) answer is decoded as it arrives.
class StreamingGet {
 public:
  StreamingGet(uint16_t port, const std::string& target) : conn_(port) {
    sent_ = conn_.Send("GET " + target + " HTTP/1.1\r\nHost: origin\r\n\r\n");
  }
  bool sent() const { return sent_; }

  // Waits for the response head; false when none came before the deadline.
  bool ReadHead(std::chrono::steady_clock::time_point deadline = Deadline()) {
    size_t end;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos) {
      if (!conn_.ReadMore(&raw_, deadline)) return false;
    }
    status_ = std::stoi(raw_.substr(9, 3));
    size_t line = raw_.find("\r\n") + 2;
    while (line < end) {
      const size_t next = raw_.find("\r\n", line);
      const std::string h = raw_.substr(line, next - line);
      const size_t colon = h.find(':');
      if (colon != std::string::npos) {
        std::string name = h.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = h.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        headers_[name] = value;
      }
      line = next + 2;
    }
    raw_.erase(0, end + 4);
    head_ = true;
    return true;
  }
  int status() const { return status_; }
  std::string Header(const std::string& name) const {
    auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }
  bool HasHeader(const std::string& name) const { return headers_.count(name) > 0; }

  // Reads until at least `n` body bytes were decoded or the answer ended.
  bool WaitForBytes(size_t n, std::chrono::steady_clock::time_point deadline = Deadline()) {
    if (!head_ && !ReadHead(deadline)) return false;
    for (;;) {
      Decode();
      if (body_.size() >= n) return true;
      if (complete_ || !conn_.ReadMore(&raw_, deadline)) return body_.size() >= n;
    }
  }
  // Reads until the answer ended: true when it ended with the terminating
  // chunk (or its Content-Length), false when the connection closed before
  // (or the deadline passed: see closed()).
  bool WaitForEnd(std::chrono::steady_clock::time_point deadline = Deadline()) {
    if (!head_ && !ReadHead(deadline)) return false;
    for (;;) {
      Decode();
      if (complete_) return true;
      if (!conn_.ReadMore(&raw_, deadline)) {
        Decode();
        return complete_;
      }
    }
  }
  const std::string& body() const { return body_; }
  bool complete() const { return complete_; }
  bool closed() const { return conn_.eof(); }

 private:
  void Decode() {
    if (complete_) return;
    if (Header("transfer-encoding") != "chunked") {
      const size_t length =
          std::stoull(Header("content-length").empty() ? "0" : Header("content-length"));
      const size_t take = std::min(raw_.size(), length - body_.size());
      body_.append(raw_, 0, take);
      raw_.erase(0, take);
      complete_ = body_.size() == length;
      return;
    }
    for (;;) {
      const size_t eol = raw_.find("\r\n");
      if (eol == std::string::npos) return;
      const size_t size = std::stoull(raw_.substr(0, eol), nullptr, 16);
      if (size == 0) {
        if (raw_.size() < eol + 4) return;
        complete_ = true;
        raw_.erase(0, eol + 4);
        return;
      }
      if (raw_.size() < eol + 2 + size + 2) return;
      body_.append(raw_, eol + 2, size);
      raw_.erase(0, eol + 2 + size + 2);
    }
  }

  RawConnection conn_;
  bool sent_ = false;
  bool head_ = false;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string raw_, body_;
  bool complete_ = false;
};

}  // namespace liveorigin::testing
