// One HTTP/1.1 connection (private to the http module).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <memory>
#include <optional>

#include "liveorigin/core/request_handler.h"
#include "liveorigin/http/http_listener.h"

namespace liveorigin::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Reads every request head first, routes it, then reads the body in pieces
// straight into the handler's UploadSink (PUT), a small buffer (other
// methods) or nowhere (refused requests). Lifetime: owned by the handlers it
// binds through shared_from_this.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, core::RequestHandler& handler, const ListenerOptions& options,
              std::shared_ptr<ListenerState> state);
  ~HttpSession();
  void Run();

 private:
  enum class BodyMode { kSink, kSmall, kDiscard };

  void DoReadHeader();
  void OnHeader(beast::error_code ec);
  void DoReadBody();
  void OnBody(beast::error_code ec);
  void OnBodyComplete();
  void Respond(core::Response response);
  void OnWrite(bool close, beast::error_code ec);
  void FailRequest(int status, std::string_view code, std::string_view message);
  void Close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  core::RequestHandler& handler_;
  const ListenerOptions& options_;
  std::shared_ptr<ListenerState> state_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  std::unique_ptr<char[]> chunk_;
  core::Request request_;
  std::unique_ptr<core::UploadSink> sink_;
  std::optional<core::Response> pending_;
  BodyMode mode_ = BodyMode::kSmall;
  uint64_t discarded_ = 0;
  bool keep_alive_ = true;
  bool in_request_ = false;
  std::chrono::steady_clock::time_point started_;
  std::string remote_;
};

}  // namespace liveorigin::http
