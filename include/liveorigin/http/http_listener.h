// HttpListener: accepts HTTP/1.1 connections on one endpoint and runs a
// session per connection against a RequestHandler (SPEC §4.4 behaviour:
// keep-alive, chunked uploads, refusals that keep the connection open).
//
// The listener and its sessions run on the io_context passed in, which the
// caller runs on N threads. Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "liveorigin/common/clock.h"
#include "liveorigin/common/status.h"
#include "liveorigin/config/config.h"
#include "liveorigin/core/request_handler.h"
#include "liveorigin/http/body_files.h"

namespace boost::asio {
class io_context;
}

namespace liveorigin::http {

// Defaults are those of config::Limits (documented there and in
// docs/configuration.md).
struct ListenerOptions {
  std::string name = "main";                                    // for logs
  uint64_t max_header_size = config::Limits{}.max_header_size;  // 431 beyond
  // Keep-alive idle time, and the longest gap between body bytes.
  Millis idle_timeout = config::Limits{}.idle_timeout;
  uint32_t max_connections = config::Limits{}.max_connections;  // excess: 503 and close
  // Connections are kept only on descriptor numbers below the soft
  // RLIMIT_NOFILE minus this many (read at every accept, so a limit lowered
  // at run time counts), leaving that many descriptors to the rest of the
  // process: storage, reloads, the admin port. A connection beyond is answered
  // 503 and closed at once. 0: no reserve.
  uint32_t reserved_descriptors = 0;
  // A refused body is read and dropped to keep the connection; beyond this
  // many bytes the connection is closed instead: four maximal objects, and at
  // least 256 MiB.
  uint64_t max_discard_bytes = DiscardLimit(config::Limits{}.max_object_size);
  // Bytes of hot bodies also kept in memory files and sent with sendfile
  // (BodyFiles); 0: every body is copied to its socket from memory.
  uint64_t sendfile_cache = 0;

  static uint64_t DiscardLimit(uint64_t max_object_size) {
    return std::max<uint64_t>(max_object_size * 4, 256ull << 20);
  }
};

// Shared with sessions so they can see the drain flag and count themselves.
struct ListenerState {
  std::atomic<uint64_t> open_connections{0};
  std::atomic<uint64_t> active_requests{0};
  std::atomic<bool> draining{false};
  // Totals since start, for /metrics.
  std::atomic<uint64_t> refused_max_connections{0};     // over max_connections
  std::atomic<uint64_t> refused_descriptor_reserve{0};  // inside reserved_descriptors
  std::atomic<uint64_t> accept_emfile{0};  // process out of descriptors (accepting pauses)
  std::atomic<uint64_t> accept_enfile{0};  // system out of descriptors (accepting pauses)
  std::atomic<uint64_t> accept_enomem{0};  // kernel out of memory/buffers (accepting pauses)
  std::atomic<uint64_t> accept_other{0};   // any other accept() failure (retried at once)
  // Memory files of hot bodies; null when ListenerOptions::sendfile_cache is 0.
  std::shared_ptr<BodyFiles> body_files;
};

class HttpListener {
 public:
  // Binds and starts accepting. Errors name the endpoint (e.g. address in use).
  static Result<std::shared_ptr<HttpListener>> Start(boost::asio::io_context& ioc,
                                                     const config::Endpoint& endpoint,
                                                     std::shared_ptr<core::RequestHandler> handler,
                                                     ListenerOptions options);
  virtual ~HttpListener() = default;

  virtual uint16_t port() const = 0;
  virtual std::string address() const = 0;  // "host:port" as bound
  // Stops accepting; sessions close after their current exchange.
  virtual void Drain() = 0;
  virtual const ListenerState& state() const = 0;
};

}  // namespace liveorigin::http
