// One HTTP/1.1 connection (private to the http module): an I/O pump around a
// RequestReader. Reads arrive in large pieces (up to kBodyReadSize while a
// body streams in), are parsed without I/O by the reader, and routed: heads to
// the handler, upload bodies to its UploadSink, answers back to the socket.
//
// Lifetime: shared, bound into every pending handler through
// shared_from_this; it shares ownership of the handler and the options, so
// nothing it refers to can go away while it runs. All its work runs on its
// strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "liveorigin/core/live_body.h"
#include "liveorigin/core/request_handler.h"
#include "liveorigin/http/http_listener.h"
#include "liveorigin/http/request_reader.h"

namespace liveorigin::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, std::shared_ptr<core::RequestHandler> handler,
              std::shared_ptr<const ListenerOptions> options, std::shared_ptr<ListenerState> state);
  ~HttpSession();
  void Run();

 private:
  void StartRequest();
  void DoRead();
  void OnRead(beast::error_code ec, std::size_t bytes);
  // Feeds buffered bytes to the reader until it needs more input or the
  // exchange waits for something (the handler, a write).
  void Process();
  // Returns true to keep processing input.
  bool OnHead();
  void OnComplete();
  void SendContinue();
  void Respond(core::Response response);
  void OnWrite(bool close, beast::error_code ec);
  // A body with a memory file (BodyFiles): the head is sent, then the slice
  // [offset, offset + length) of the file with sendfile, waiting for room in
  // the socket when it is full (idle_timeout bounds each wait).
  void SendFile(std::shared_ptr<const BodyFile> file, uint64_t offset, uint64_t length, bool close);
  void SendFileMore();
  void EndSendFile(bool close, beast::error_code ec);
  // SPEC §9: a GET following an upload in progress. The head goes out with
  // chunked framing, then each batch of the upload's chunks as it arrives
  // (one write at a time: a slow reader holds references, never copies);
  // the terminating chunk only when the upload was stored clean, else the
  // connection is closed.
  void StartStream(const std::shared_ptr<bhttp::response<bhttp::empty_body>>& head,
                   bool keep_alive);
  void PumpStream();
  void OnStreamWrite(beast::error_code ec);
  void EndStream(bool clean);
  void FailRequest(const RequestReader::Failure& failure);
  void Close();

  beast::tcp_stream stream_;
  net::steady_timer keep_alive_timer_;  // pending while a streamed answer waits
  beast::flat_buffer buffer_;
  const std::shared_ptr<core::RequestHandler> handler_;
  const std::shared_ptr<const ListenerOptions> options_;
  const std::shared_ptr<ListenerState> state_;
  RequestReader reader_;
  std::unique_ptr<core::UploadSink> sink_;
  std::optional<core::Response> pending_;  // refusal sent once its body is dropped
  bool in_request_ = false;
  bool closed_ = false;
  bool head_deadline_set_ = false;  // the current request head's deadline is running
  std::chrono::steady_clock::time_point started_;
  std::string remote_;
  // The response being written: its serialized head (capacity reused across
  // requests) and the shared body it sends a slice of.
  std::string head_;
  core::Body body_;
  // The memory file being sent, and what is left of its slice.
  std::shared_ptr<const BodyFile> file_;
  uint64_t file_next_ = 0;
  uint64_t file_end_ = 0;
  bool file_close_ = false;
  bool non_blocking_ = false;     // the socket is in non-blocking mode (for sendfile)
  net::steady_timer send_timer_;  // bounds a wait for room in the socket
  // The answer being streamed, while one is.
  std::shared_ptr<core::LiveFollower> follow_;
  size_t follow_next_ = 0;      // index of the next chunk to send
  uint64_t follow_waiter_ = 0;  // subscription to the body, while waiting
  bool follow_keep_alive_ = false;
  bool follow_sent_ = false;         // a body byte went out
  std::vector<core::Body> writing_;  // chunks of the write in flight
  uint64_t writing_bytes_ = 0;       // their size
  uint64_t follow_bytes_ = 0;        // body bytes of this answer written so far
  std::string chunk_head_;
};

}  // namespace liveorigin::http
