#include "http_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <ctime>
#include <limits>

namespace liveorigin::http {
namespace {

constexpr size_t kChunkSize = 64 * 1024;

// A response body that is a slice of a shared immutable buffer: no copy.
struct SliceBody {
  struct value_type {
    core::Body body;
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  static std::uint64_t size(const value_type& v) { return v.length; }

  class writer {
   public:
    using const_buffers_type = net::const_buffer;
    template <bool isRequest, class Fields>
    writer(const bhttp::header<isRequest, Fields>&, const value_type& v) : v_(v) {}
    void init(beast::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      if (done_ || v_.length == 0 || !v_.body) return boost::none;
      done_ = true;
      return {{net::const_buffer(v_.body->data() + v_.offset, v_.length), false}};
    }

   private:
    const value_type& v_;
    bool done_ = false;
  };
};

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

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::need_buffer && ec != bhttp::error::header_limit &&
         ec != bhttp::error::body_limit && ec != bhttp::error::buffer_overflow;
}

}  // namespace

HttpSession::HttpSession(tcp::socket&& socket, core::RequestHandler& handler,
                         const ListenerOptions& options, std::shared_ptr<ListenerState> state)
    : stream_(std::move(socket)),
      handler_(handler),
      options_(options),
      state_(std::move(state)),
      chunk_(new char[kChunkSize]) {
  ++state_->open_connections;
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
}

HttpSession::~HttpSession() {
  if (sink_) sink_->Abort("connection closed");
  if (in_request_) --state_->active_requests;
  --state_->open_connections;
}

void HttpSession::Run() {
  net::dispatch(stream_.get_executor(),
                beast::bind_front_handler(&HttpSession::DoReadHeader, shared_from_this()));
}

void HttpSession::DoReadHeader() {
  if (state_->draining.load()) return Close();
  parser_.emplace();
  parser_->header_limit(
      static_cast<std::uint32_t>(std::min<uint64_t>(options_.max_header_size, UINT32_MAX)));
  // Bodies are policed by the session and the handler. Not boost::none: Beast 1.74
  // compares a Content-Length against an empty optional and always refuses it.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  request_ = core::Request{};
  sink_.reset();
  pending_.reset();
  discarded_ = 0;
  stream_.expires_after(options_.idle_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
}

void HttpSession::OnHeader(beast::error_code ec) {
  if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
      ec == net::error::connection_reset || ec == beast::error::timeout ||
      ec == net::error::operation_aborted) {
    return Close();
  }
  started_ = std::chrono::steady_clock::now();
  in_request_ = true;
  ++state_->active_requests;
  if (ec == bhttp::error::header_limit) {
    return FailRequest(431, "header_too_large",
                       "request head exceeds max_header_size (" +
                           std::to_string(options_.max_header_size) + " bytes)");
  }
  if (ec) {
    return FailRequest(400, "bad_request", "malformed HTTP request: " + ec.message());
  }

  const auto& msg = parser_->get();
  request_.method = std::string(msg.method_string());
  request_.target = std::string(msg.target());
  request_.remote = remote_;
  request_.received = started_;
  for (const auto& field : msg) {
    request_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  if (auto len = parser_->content_length()) request_.content_length = *len;
  keep_alive_ = msg.keep_alive();
  // RFC 9112 6.3: a request whose Transfer-Encoding does not end in chunked has
  // no determinable length. Beast 1.74 accepts it; refuse it (smuggling shape).
  if (msg.count(bhttp::field::transfer_encoding) > 0 && !parser_->chunked()) {
    return FailRequest(400, "bad_request",
                       "Transfer-Encoding must end with chunked; the body length is ambiguous");
  }

  if (handler_.IsUpload(request_.method)) {  // PUT; POST on the main listener
    core::Response refusal;
    sink_ = handler_.BeginUpload(request_, &refusal);
    if (sink_) {
      mode_ = BodyMode::kSink;
    } else {
      mode_ = BodyMode::kDiscard;
      pending_ = std::move(refusal);
    }
  } else {
    mode_ = BodyMode::kSmall;
    if (request_.content_length &&
        *request_.content_length > core::RequestHandler::kSmallBodyLimit) {
      mode_ = BodyMode::kDiscard;
      pending_ = core::Response::Error(413, "too_large", "request body too large for this method");
    }
  }

  const auto expect = msg[bhttp::field::expect];
  const bool expects_continue = beast::iequals(expect, "100-continue");
  if (parser_->is_done()) return OnBodyComplete();
  if (expects_continue) {
    if (mode_ == BodyMode::kDiscard) {
      // The client waits for our verdict before sending the body; we refuse, so it
      // will not send it, and what it sends next is unknowable: close after replying.
      pending_->close = true;
      return Respond(std::move(*pending_));
    }
    auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
    stream_.expires_after(options_.idle_timeout);
    return bhttp::async_write(
        stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
          if (wec) {
            if (self->sink_) self->sink_->Abort("write failed");
            self->sink_.reset();
            return self->Close();
          }
          self->DoReadBody();
        });
  }
  DoReadBody();
}

void HttpSession::DoReadBody() {
  auto& body = parser_->get().body();
  body.data = chunk_.get();
  body.size = kChunkSize;
  // One socket read at a time: the timer bounds the gap between body bytes
  // (a stalled uploader is cut off after idle_timeout), and the sink sees data
  // as it arrives.
  stream_.expires_after(options_.idle_timeout);
  bhttp::async_read_some(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnBody(ec); });
}

void HttpSession::OnBody(beast::error_code ec) {
  if (ec == bhttp::error::need_buffer) ec = {};
  const size_t got = kChunkSize - parser_->get().body().size;
  if (got > 0) {
    const std::string_view bytes(chunk_.get(), got);
    switch (mode_) {
      case BodyMode::kSink:
        if (!sink_->Append(bytes)) discarded_ += got;
        break;
      case BodyMode::kSmall:
        if (request_.body.size() + got > core::RequestHandler::kSmallBodyLimit) {
          mode_ = BodyMode::kDiscard;
          pending_ = core::Response::Error(413, "too_large", "request body too large");
          discarded_ += got;
        } else {
          request_.body.append(bytes);
        }
        break;
      case BodyMode::kDiscard:
        discarded_ += got;
        break;
    }
  }
  if (ec) {
    const char* why = ec == beast::error::timeout ? "body timeout (idle_timeout without data)"
                                                  : "connection lost during body";
    if (IsParseError(ec)) why = "malformed body framing";
    if (sink_) {
      sink_->Abort(IsParseError(ec) ? ec.message() : why);
      sink_.reset();
    }
    if (IsParseError(ec)) {
      return FailRequest(400, "bad_request",
                         std::string("malformed request body: ") + ec.message());
    }
    spdlog::debug("[{}] {} {} {}: {}", options_.name, remote_, request_.method, request_.target,
                  why);
    return Close();
  }
  if (discarded_ > options_.max_discard_bytes) {
    // Too much to drop politely: answer and close.
    core::Response r = sink_ ? sink_->Finish() : std::move(*pending_);
    sink_.reset();
    r.close = true;
    return Respond(std::move(r));
  }
  if (!parser_->is_done()) return DoReadBody();
  OnBodyComplete();
}

void HttpSession::OnBodyComplete() {
  if (mode_ == BodyMode::kSink) {
    core::Response r = sink_->Finish();
    sink_.reset();
    return Respond(std::move(r));
  }
  if (pending_) return Respond(std::move(*pending_));
  stream_.expires_never();  // held GETs wait; the handler bounds the wait
  handler_.Handle(request_, [self = shared_from_this()](core::Response r) {
    net::post(self->stream_.get_executor(),
              [self, r = std::move(r)]() mutable { self->Respond(std::move(r)); });
  });
}

void HttpSession::FailRequest(int status, std::string_view code, std::string_view message) {
  spdlog::warn("[{}] {} {} {}: {} {}", options_.name, remote_,
               request_.method.empty() ? "-" : request_.method,
               request_.target.empty() ? "-" : request_.target, status, message);
  core::Response r = core::Response::Error(status, code, message);
  r.close = true;  // the framing is broken: nothing after this can be trusted
  Respond(std::move(r));
}

void HttpSession::Respond(core::Response r) {
  handler_.Decorate(request_, &r);  // CORS, CMSD-Dynamic: as the head is written
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  handler_.OnResponseSent(request_, r, seconds);

  auto res = std::make_shared<bhttp::response<SliceBody>>();
  res->version(11);
  res->result(static_cast<unsigned>(r.status));
  res->set(bhttp::field::server, "liveorigin");
  res->set(bhttp::field::date, HttpDateNow());
  for (auto& [name, value] : r.headers) res->insert(name, value);
  // A HEAD never carries a body, whatever the handler answered: stray bytes
  // would be read as the next response on a keep-alive connection.
  if (request_.method == "HEAD") r.ToHeadResponse();
  const bool no_body = r.status < 200 || r.status == 204 || r.status == 304;
  if (!no_body) {
    res->content_length(r.head_length ? *r.head_length : r.length);
    if (!r.head_length) res->body() = SliceBody::value_type{r.body, r.offset, r.length};
  }
  const bool close = r.close || !keep_alive_ || state_->draining.load();
  res->keep_alive(!close);

  stream_.expires_after(options_.idle_timeout);
  bhttp::async_write(stream_, *res,
                     [self = shared_from_this(), res, close](beast::error_code ec, std::size_t) {
                       self->OnWrite(close, ec);
                     });
}

void HttpSession::OnWrite(bool close, beast::error_code ec) {
  if (in_request_) {
    in_request_ = false;
    --state_->active_requests;
  }
  if (ec || close) return Close();
  DoReadHeader();
}

void HttpSession::Close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.close();
}

}  // namespace liveorigin::http
