// RequestReader: HTTP/1.1 request framing without I/O. The session feeds it
// the bytes a connection receives; the fuzz target feeds it arbitrary bytes.
// It parses request heads (with the size limit and the framing rules of
// SPEC §4.4: Transfer-Encoding must end in chunked), then the body: pieces for
// an upload sink, a small buffered body for other methods, or bytes dropped
// after a refusal.
//
// Not thread-safe; one per connection. Beast stays inside its implementation.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "liveorigin/core/http_message.h"
#include "liveorigin/core/request_handler.h"

namespace liveorigin::http {

struct RequestReaderLimits {
  uint64_t max_header_size = 16 << 10;  // request heads above this: 431
  uint64_t max_small_body = 64 << 10;   // buffered bodies (non-upload requests) above this: 413
  uint64_t max_discard_bytes = 256ull << 20;  // refused bodies above this: answer and close
};

// How the current request's body is consumed; chosen after its head.
enum class BodyMode {
  kSink,     // pieces handed to the caller (kBody events)
  kSmall,    // buffered into request().body up to max_small_body, then dropped
  kDiscard,  // dropped (the request was refused)
};

class RequestReader {
 public:
  enum class Event {
    kNeedMore,      // feed more bytes
    kHead,          // request() is ready: choose SetBodyMode, then keep feeding
    kBody,          // body() holds pieces for the sink
    kComplete,      // the message is complete
    kDiscardLimit,  // more than max_discard_bytes dropped: answer and close
    kError,         // framing broken: answer failure() and close the connection
  };
  struct Failure {
    int status = 400;
    std::string code;
    std::string message;
  };

  explicit RequestReader(RequestReaderLimits limits);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Begins the next request on the connection.
  void Start();
  // Parses a prefix of `in`; *consumed bytes may be dropped by the caller
  // afterwards (not before it has used body()).
  Event Feed(std::string_view in, size_t* consumed);
  // The peer closed the connection: kComplete if nothing was pending, else kError.
  Event FeedEof();

  void SetBodyMode(BodyMode mode) { mode_ = mode; }
  BodyMode body_mode() const { return mode_; }

  core::Request& request() { return request_; }
  const std::vector<std::string_view>& body() const { return pieces_; }
  bool head_done() const;
  bool message_done() const;  // the whole request, body included, has been parsed
  bool keep_alive() const { return keep_alive_; }
  bool expects_continue() const { return expects_continue_; }
  // True when a kSmall body outgrew max_small_body (its bytes were dropped).
  bool small_body_too_large() const { return small_too_large_; }
  uint64_t discarded() const { return discarded_; }
  const Failure& failure() const { return failure_; }

 private:
  struct Parser;
  Event OnHead();
  Event Fail(int status, std::string code, std::string message);

  const RequestReaderLimits limits_;
  std::unique_ptr<Parser> parser_;
  core::Request request_;
  std::vector<std::string_view> pieces_;
  BodyMode mode_ = BodyMode::kSmall;
  bool reported_head_ = false;
  bool keep_alive_ = true;
  bool expects_continue_ = false;
  bool small_too_large_ = false;
  uint64_t discarded_ = 0;
  uint64_t head_bytes_ = 0;  // bytes of the request head consumed so far
  Failure failure_;
};

// After a head (kHead): decides where the body goes and sets the reader's
// body mode — an upload to the handler's upload sink (or, refused, nowhere with
// *refusal to send once the body is dropped), other methods into the small
// buffer (or nowhere with a 413 when the declared length is over the limit).
// Uploads are the methods the handler's IsUpload names (PUT, and POST on the
// main listener).
void RouteBody(core::RequestHandler& handler, RequestReader& reader,
               std::unique_ptr<core::UploadSink>* sink, std::optional<core::Response>* refusal);

}  // namespace liveorigin::http
