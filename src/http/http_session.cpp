#include "http_session.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdio>
#include <ctime>

#include <sys/sendfile.h>
#include <sys/socket.h>

#include "liveorigin/http/response_head.h"

namespace liveorigin::http {
namespace {

// Socket reads: small while waiting for a request head (idle keep-alive
// connections keep little memory), large while a body streams in (few
// syscalls and timer re-arms per megabyte).
constexpr size_t kHeadReadSize = size_t{4} * 1024;
constexpr size_t kBodyReadSize = size_t{256} * 1024;
// One streamed write takes at most this much of a followed upload.
constexpr size_t kStreamBatchChunks = 64;
constexpr uint64_t kStreamBatchBytes = uint64_t{1} << 20;

// "Sun, 06 Nov 1994 08:49:37 GMT", formatted at most once per second per thread.
const std::string& HttpDateNow() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_second = now;
  }
  return cached;
}

RequestReaderLimits ReaderLimits(const ListenerOptions& o) {
  RequestReaderLimits l;
  l.max_header_size = o.max_header_size;
  l.max_small_body = core::RequestHandler::kSmallBodyLimit;
  l.max_discard_bytes = o.max_discard_bytes;
  return l;
}

}  // namespace

HttpSession::HttpSession(tcp::socket&& socket, std::shared_ptr<core::RequestHandler> handler,
                         std::shared_ptr<const ListenerOptions> options,
                         std::shared_ptr<ListenerState> state)
    : stream_(std::move(socket)),
      keep_alive_timer_(stream_.get_executor()),
      handler_(std::move(handler)),
      options_(std::move(options)),
      state_(std::move(state)),
      reader_(ReaderLimits(*options_)),
      send_timer_(stream_.get_executor()) {
  ++state_->open_connections;
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
}

HttpSession::~HttpSession() {
  if (follow_ && follow_waiter_) follow_->body().Unsubscribe(follow_waiter_);
  if (sink_) sink_->Abort("connection closed");
  if (in_request_) --state_->active_requests;
  --state_->open_connections;
}

void HttpSession::Run() {
  net::dispatch(stream_.get_executor(),
                beast::bind_front_handler(&HttpSession::StartRequest, shared_from_this()));
}

void HttpSession::StartRequest() {
  if (state_->draining.load()) return Close();
  reader_.Start();
  head_deadline_set_ = false;
  sink_.reset();
  pending_.reset();
  // A big body left a big buffer behind: give it back between requests.
  if (buffer_.size() == 0 && buffer_.capacity() > kHeadReadSize * 4) buffer_.shrink_to_fit();
  if (buffer_.size() > 0) return Process();  // a pipelined request is already here
  DoRead();
}

void HttpSession::DoRead() {
  const bool body = reader_.head_done();
  // idle_timeout bounds a whole request head (a slowloris trickling one byte
  // at a time is cut off), then each gap between body bytes (a packager
  // trickles a segment over its whole duration).
  if (body || !head_deadline_set_) {
    stream_.expires_after(options_->idle_timeout);
    head_deadline_set_ = !body;
  }
  stream_.async_read_some(buffer_.prepare(body ? kBodyReadSize : kHeadReadSize),
                          beast::bind_front_handler(&HttpSession::OnRead, shared_from_this()));
}

void HttpSession::OnRead(beast::error_code ec, std::size_t bytes) {
  buffer_.commit(bytes);
  if (ec) {
    const bool mid_request = reader_.head_done() || buffer_.size() > 0;
    if (sink_) {
      sink_->Abort(ec == beast::error::timeout ? "body timeout (idle_timeout without data)"
                                               : "connection lost during body");
      sink_.reset();
    }
    if (mid_request) {
      spdlog::debug("[{}] {} {} {}: {}", options_->name, remote_, reader_.request().method,
                    reader_.request().target, ec.message());
    }
    return Close();
  }
  Process();
}

void HttpSession::Process() {
  for (;;) {
    const auto data = buffer_.data();
    size_t consumed = 0;
    const auto event = reader_.Feed(
        std::string_view(static_cast<const char*>(data.data()), data.size()), &consumed);
    switch (event) {
      case RequestReader::Event::kNeedMore:
        buffer_.consume(consumed);
        return DoRead();
      case RequestReader::Event::kHead:
        buffer_.consume(consumed);
        if (!OnHead()) return;
        continue;
      case RequestReader::Event::kBody:
        for (auto piece : reader_.body()) {
          if (!sink_->Append(piece)) {
            reader_.SetBodyMode(BodyMode::kDiscard);  // the sink refused: drop the rest
            break;
          }
        }
        buffer_.consume(consumed);
        continue;
      case RequestReader::Event::kComplete:
        buffer_.consume(consumed);
        return OnComplete();
      case RequestReader::Event::kDiscardLimit: {
        buffer_.consume(consumed);
        // Too much to drop politely: answer and close.
        if (sink_) {
          auto sink = std::move(sink_);
          sink->Finish([self = shared_from_this()](core::Response r) {
            r.close = true;
            net::post(self->stream_.get_executor(),
                      [self, r = std::move(r)]() mutable { self->Respond(std::move(r)); });
          });
          return;
        }
        core::Response r = pending_
                               ? std::move(*pending_)
                               : core::Response::Error(413, "too_large", "request body too large");
        r.close = true;
        return Respond(std::move(r));
      }
      case RequestReader::Event::kError:
        if (sink_) {
          sink_->Abort(reader_.failure().message);
          sink_.reset();
        }
        return FailRequest(reader_.failure());
    }
  }
}

bool HttpSession::OnHead() {
  started_ = std::chrono::steady_clock::now();
  in_request_ = true;
  ++state_->active_requests;
  core::Request& request = reader_.request();
  request.remote = remote_;
  request.received = started_;

  RouteBody(*handler_, reader_, &sink_, &pending_);
  if (reader_.expects_continue()) {
    if (!reader_.message_done()) {
      if (pending_) {
        // The client waits for our verdict before sending the body; we refuse, so
        // it will not send it, and what it sends next is unknowable: close after
        // replying.
        pending_->close = true;
        Respond(std::move(*pending_));
        return false;
      }
      SendContinue();
      return false;
    }
  }
  return true;
}

void HttpSession::SendContinue() {
  auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
  stream_.expires_after(options_->idle_timeout);
  bhttp::async_write(stream_, *cont,
                     [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
                       if (ec) {
                         if (self->sink_) self->sink_->Abort("write failed");
                         self->sink_.reset();
                         return self->Close();
                       }
                       self->Process();
                     });
}

void HttpSession::OnComplete() {
  auto self = shared_from_this();
  auto post_back = [self](core::Response r) {
    net::post(self->stream_.get_executor(),
              [self, r = std::move(r)]() mutable { self->Respond(std::move(r)); });
  };
  if (sink_) {
    auto sink = std::move(sink_);
    stream_.expires_never();  // storing runs elsewhere; its answer comes back here
    sink->Finish(std::move(post_back));
    return;
  }
  if (pending_) return Respond(std::move(*pending_));
  if (reader_.small_body_too_large()) {
    return Respond(core::Response::Error(413, "too_large", "request body too large"));
  }
  stream_.expires_never();  // held GETs wait; the handler bounds the wait
  handler_->Handle(reader_.request(), std::move(post_back));
}

void HttpSession::FailRequest(const RequestReader::Failure& failure) {
  const auto& req = reader_.request();
  spdlog::warn("[{}] {} {} {}: {} {}", options_->name, remote_,
               req.method.empty() ? "-" : req.method, req.target.empty() ? "-" : req.target,
               failure.status, failure.message);
  if (!in_request_) {
    started_ = std::chrono::steady_clock::now();
    in_request_ = true;
    ++state_->active_requests;
  }
  core::Response r = core::Response::Error(failure.status, failure.code, failure.message);
  r.close = true;  // the framing is broken: nothing after this can be trusted
  Respond(std::move(r));
}

void HttpSession::Respond(core::Response r) {
  if (closed_) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const core::Request& request = reader_.request();
  handler_->Decorate(request, &r);  // CORS, CMSD-Dynamic: as the head is written
  handler_->OnResponseSent(request, r, seconds);

  const ResponseFraming framing =
      FrameResponse(request, r, reader_.keep_alive() && !state_->draining.load());
  if (r.follow && request.method == "GET") {
    auto head = std::make_shared<bhttp::response<bhttp::empty_body>>();
    head->version(11);
    head->result(static_cast<unsigned>(r.status));
    head->set(bhttp::field::server, "liveorigin");
    head->set(bhttp::field::date, HttpDateNow());
    for (auto& [name, value] : r.headers) head->insert(name, value);
    head->chunked(true);
    follow_ = std::move(r.follow);
    return StartStream(head, framing.keep_alive);
  }
  SerializeResponseHead(r, framing, HttpDateNow(), &head_);
  std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::const_buffer{}};
  body_.reset();
  const bool close = !framing.keep_alive;
  if (framing.send_body && r.body) {
    body_ = std::move(r.body);  // kept alive until the write completes
    if (state_->body_files && r.length >= BodyFiles::kMinBodySize) {
      if (auto file = state_->body_files->Find(body_)) {
        body_.reset();
        return SendFile(std::move(file), r.offset, r.length, close);
      }
    }
    buffers[1] = net::const_buffer(body_->data() + r.offset, r.length);
  }

  stream_.expires_after(options_->idle_timeout);
  net::async_write(stream_, buffers,
                   [self = shared_from_this(), close](beast::error_code ec, std::size_t) {
                     self->body_.reset();
                     self->OnWrite(close, ec);
                   });
}

void HttpSession::SendFile(std::shared_ptr<const BodyFile> file, uint64_t offset, uint64_t length,
                           bool close) {
  file_ = std::move(file);
  file_next_ = offset;
  file_end_ = offset + length;
  file_close_ = close;
  if (!non_blocking_) {
    beast::error_code ec;
    stream_.socket().non_blocking(true, ec);
    if (ec) return EndSendFile(true, ec);
    non_blocking_ = true;
  }
  // The head goes out at once when the socket has room (it nearly always
  // has: the client has read the previous answer), held back by MSG_MORE
  // until the first body bytes join it.
  const ssize_t n =
      ::send(stream_.socket().native_handle(), head_.data(), head_.size(), MSG_MORE | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(head_.size())) return SendFileMore();
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    return EndSendFile(true, beast::error_code(errno, boost::system::system_category()));
  }
  const size_t sent = n > 0 ? static_cast<size_t>(n) : 0;
  stream_.expires_after(options_->idle_timeout);
  net::async_write(stream_, net::buffer(head_.data() + sent, head_.size() - sent),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     if (ec) return self->EndSendFile(true, ec);
                     self->SendFileMore();
                   });
}

void HttpSession::SendFileMore() {
  const int socket = stream_.socket().native_handle();
  while (file_next_ < file_end_) {
    auto offset = static_cast<off_t>(file_next_);
    const ssize_t n = ::sendfile(socket, file_->fd(), &offset, file_end_ - file_next_);
    if (n > 0) {
      file_next_ = static_cast<uint64_t>(offset);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The socket is full: wait for room, as long as idle_timeout allows.
      send_timer_.expires_after(options_->idle_timeout);
      send_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
        if (ec) return;  // cancelled: the wait ended first
        if (auto self = weak.lock()) {
          beast::error_code ignored;
          self->stream_.socket().cancel(ignored);
        }
      });
      stream_.socket().async_wait(tcp::socket::wait_write,
                                  [self = shared_from_this()](beast::error_code ec) {
                                    self->send_timer_.cancel();
                                    if (ec) return self->EndSendFile(true, ec);
                                    self->SendFileMore();
                                  });
      return;
    }
    // n == 0 would be a file shorter than its slice: sealed files cannot shrink.
    return EndSendFile(true, n == 0 ? beast::error_code(EIO, boost::system::system_category())
                                    : beast::error_code(errno, boost::system::system_category()));
  }
  EndSendFile(file_close_, beast::error_code{});
}

void HttpSession::EndSendFile(bool close, beast::error_code ec) {
  file_.reset();
  OnWrite(close, ec);
}

void HttpSession::OnWrite(bool close, beast::error_code ec) {
  if (in_request_) {
    in_request_ = false;
    --state_->active_requests;
  }
  if (ec || close) return Close();
  StartRequest();
}

void HttpSession::StartStream(const std::shared_ptr<bhttp::response<bhttp::empty_body>>& head,
                              bool keep_alive) {
  follow_next_ = 0;
  follow_waiter_ = 0;
  follow_sent_ = false;
  follow_bytes_ = 0;
  follow_keep_alive_ = keep_alive;
  head->keep_alive(keep_alive);
  beast::error_code ignored;
  stream_.socket().set_option(tcp::no_delay(true), ignored);  // each frame goes out at once
  // While it waits for the upload, nothing else keeps the session alive: the
  // upload's notification holds it weakly (no cycle through the shared body).
  keep_alive_timer_.expires_after(std::chrono::hours(24));
  keep_alive_timer_.async_wait([self = shared_from_this()](beast::error_code) {});
  auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*head);
  stream_.expires_after(options_->idle_timeout);
  bhttp::async_write_header(
      stream_, *sr, [self = shared_from_this(), head, sr](beast::error_code ec, std::size_t) {
        if (ec) return self->EndStream(false);
        self->PumpStream();
      });
}

void HttpSession::PumpStream() {
  if (closed_ || !follow_) return;
  follow_waiter_ = 0;
  writing_.clear();
  const auto state =
      follow_->body().Read(follow_next_, kStreamBatchChunks, kStreamBatchBytes, &writing_);
  if (!writing_.empty()) {
    follow_next_ += writing_.size();
    uint64_t total = 0;
    for (const auto& c : writing_) total += c->size();
    char hex[24];
    const int n =
        std::snprintf(hex, sizeof hex, "%llx\r\n", static_cast<unsigned long long>(total));
    chunk_head_.assign(hex, static_cast<size_t>(n));
    writing_bytes_ = total;
    std::vector<net::const_buffer> bufs;
    bufs.reserve(writing_.size() + 2);
    bufs.emplace_back(chunk_head_.data(), chunk_head_.size());
    for (const auto& c : writing_) bufs.emplace_back(c->data(), c->size());
    bufs.emplace_back("\r\n", 2);
    // A reader that takes nothing for idle_timeout is dropped: what it holds
    // is references to shared chunks, and only for this one write.
    stream_.expires_after(options_->idle_timeout);
    net::async_write(stream_, bufs, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->OnStreamWrite(ec);
    });
    return;
  }
  switch (state) {
    case core::LiveBody::State::kComplete: {
      static const std::string kLast = "0\r\n\r\n";
      stream_.expires_after(options_->idle_timeout);
      net::async_write(stream_, net::buffer(kLast),
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec) return self->EndStream(false);
                         self->EndStream(true);
                       });
      return;
    }
    case core::LiveBody::State::kFailed:
      return EndStream(false);
    case core::LiveBody::State::kGrowing:
      break;
  }
  // Nothing new yet: wait for the upload (its stall limit bounds the wait).
  stream_.expires_never();
  std::weak_ptr<HttpSession> weak = shared_from_this();
  auto executor = stream_.get_executor();
  follow_waiter_ = follow_->body().Subscribe(follow_next_, [weak, executor] {
    if (auto self = weak.lock()) {
      net::post(executor, [self] { self->PumpStream(); });
    }
  });
  if (follow_waiter_ == 0) {
    net::post(stream_.get_executor(),
              beast::bind_front_handler(&HttpSession::PumpStream, shared_from_this()));
  }
}

void HttpSession::OnStreamWrite(beast::error_code ec) {
  writing_.clear();
  if (ec) {
    spdlog::debug("[{}] {} {}: streamed answer cut off: {}", options_->name, remote_,
                  reader_.request().target, ec.message());
    return EndStream(false);
  }
  follow_bytes_ += writing_bytes_;
  if (!follow_sent_) {
    follow_sent_ = true;
    follow_->FirstByteSent();
  }
  PumpStream();
}

void HttpSession::EndStream(bool clean) {
  keep_alive_timer_.cancel();
  if (follow_bytes_) handler_->OnBodyStreamed(reader_.request(), follow_bytes_);
  follow_bytes_ = 0;
  follow_.reset();
  writing_.clear();
  follow_waiter_ = 0;
  // Without the terminating chunk the answer must not look complete to any
  // cache: the connection closes (SPEC §9).
  OnWrite(!clean || !follow_keep_alive_, beast::error_code{});
}

void HttpSession::Close() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.close();
}

}  // namespace liveorigin::http
