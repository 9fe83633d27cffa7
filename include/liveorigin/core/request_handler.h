// The interface the HTTP I/O layer sees: it knows nothing of events, stores or
// selection. Implementations must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "liveorigin/core/http_message.h"

namespace liveorigin::core {

// Receives one PUT body as it arrives. The session calls Append for every
// chunk, then exactly one of Finish (body complete) or Abort (connection lost,
// timeout, limit exceeded). Nothing of an aborted upload becomes visible.
class UploadSink {
 public:
  using Done = std::function<void(Response)>;
  virtual ~UploadSink() = default;
  // Returns false to refuse further data; the session then calls Finish and
  // sends its response after discarding the rest of the body.
  virtual bool Append(std::string_view bytes) = 0;
  // Stores the upload; `done` runs exactly once with the answer, possibly
  // later and on another thread. The sink may be destroyed right after.
  virtual void Finish(Done done) = 0;
  virtual void Abort(std::string_view reason) = 0;
};

class RequestHandler {
 public:
  using Respond = std::function<void(Response)>;
  virtual ~RequestHandler() = default;

  // Largest request body the session reads into Request::body for methods
  // other than PUT; larger bodies are refused with 413.
  static constexpr uint64_t kSmallBodyLimit = uint64_t{64} * 1024;

  // Any request except uploads (see IsUpload). `respond` must be called
  // exactly once, possibly later and from another thread (held requests).
  virtual void Handle(Request request, Respond respond) = 0;

  // Whether requests with this method stream their body to BeginUpload
  // (PUT by default; the main listener also takes POST, SPEC §11).
  virtual bool IsUpload(std::string_view method) const { return method == "PUT"; }

  // An upload whose headers have arrived. Returns a sink for the body, or null
  // with `*refusal` filled (the session discards the body, then sends it).
  virtual std::unique_ptr<UploadSink> BeginUpload(const Request& request, Response* refusal) = 0;

  // Called for every response right before its head is written (headers that
  // depend on when that happens, or on every answer alike).
  virtual void Decorate(const Request& request, Response* response) {}

  // Called once per finished exchange (for metrics and access logs).
  virtual void OnResponseSent(const Request& request, const Response& response, double seconds) {}

  // A followed answer (SPEC §9) has ended, cleanly or cut off, after writing
  // `bytes` of body; OnResponseSent saw only its head.
  virtual void OnBodyStreamed(const Request& request, uint64_t bytes) {}
};

}  // namespace liveorigin::core
