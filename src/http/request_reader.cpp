#include "liveorigin/http/request_reader.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>

namespace liveorigin::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

// A request body that is not stored: the parser hands each decoded piece (a
// view into the caller's input) to the reader, which routes it.
struct PieceBody {
  struct value_type {
    std::vector<std::string_view>* out = nullptr;
  };
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(bhttp::header<isRequest, Fields>&, value_type& v) : v_(v) {}
    void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
           ++it) {
        const net::const_buffer b = *it;
        if (b.size() == 0) continue;
        v_.out->emplace_back(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      return n;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& v_;
  };
};

}  // namespace

struct RequestReader::Parser {
  bhttp::request_parser<PieceBody> p;
};

RequestReader::RequestReader(RequestReaderLimits limits) : limits_(limits) { Start(); }
RequestReader::~RequestReader() = default;

void RequestReader::Start() {
  parser_ = std::make_unique<Parser>();
  auto& p = parser_->p;
  p.header_limit(static_cast<std::uint32_t>(
      std::min<uint64_t>(limits_.max_header_size, std::numeric_limits<std::uint32_t>::max())));
  // Bodies are policed here and by the handler. Not boost::none: Beast 1.74
  // compares a Content-Length against an empty optional and always refuses it.
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  p.get().body().out = &pieces_;
  request_ = core::Request{};
  pieces_.clear();
  mode_ = BodyMode::kSmall;
  reported_head_ = false;
  keep_alive_ = true;
  expects_continue_ = false;
  small_too_large_ = false;
  discarded_ = 0;
  head_bytes_ = 0;
  failure_ = Failure{};
}

bool RequestReader::head_done() const { return parser_->p.is_header_done(); }
bool RequestReader::message_done() const { return parser_->p.is_done(); }

RequestReader::Event RequestReader::Fail(int status, std::string code, std::string message) {
  failure_ = Failure{status, std::move(code), std::move(message)};
  return Event::kError;
}

RequestReader::Event RequestReader::OnHead() {
  reported_head_ = true;
  auto& p = parser_->p;
  const auto& msg = p.get();
  request_.method = std::string(msg.method_string());
  request_.target = std::string(msg.target());
  for (const auto& field : msg) {
    request_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  if (auto len = p.content_length()) request_.content_length = *len;
  keep_alive_ = msg.keep_alive();
  request_.http11 = msg.version() >= 11;
  expects_continue_ = beast::iequals(msg[bhttp::field::expect], "100-continue");
  // RFC 9112 6.3: a request whose Transfer-Encoding does not end in chunked has
  // no determinable length. Beast 1.74 accepts it; refuse it (smuggling shape).
  if (msg.count(bhttp::field::transfer_encoding) > 0 && !p.chunked()) {
    return Fail(400, "bad_request",
                "Transfer-Encoding must end with chunked; the body length is ambiguous");
  }
  p.eager(true);  // from here on, parse as much body as the input holds
  return Event::kHead;
}

RequestReader::Event RequestReader::Feed(std::string_view in, size_t* consumed) {
  *consumed = 0;
  pieces_.clear();
  auto& p = parser_->p;
  if (p.is_header_done() && !reported_head_) return OnHead();
  if (p.is_done()) return Event::kComplete;
  if (in.empty()) return Event::kNeedMore;
  beast::error_code ec;
  *consumed = p.put(net::buffer(in.data(), in.size()), ec);
  if (ec == bhttp::error::need_more) ec = {};
  if (ec == bhttp::error::header_limit) {
    return Fail(431, "header_too_large",
                "request head exceeds max_header_size (" + std::to_string(limits_.max_header_size) +
                    " bytes)");
  }
  if (ec) {
    return Fail(
        400, "bad_request",
        std::string(reported_head_ ? "malformed request body: " : "malformed HTTP request: ") +
            ec.message());
  }
  if (!reported_head_) {
    // Beast consumes a head field by field and checks its limit per call only:
    // count the whole head here.
    head_bytes_ += *consumed;
    const uint64_t seen = p.is_header_done() ? head_bytes_ : head_bytes_ + (in.size() - *consumed);
    if (seen > limits_.max_header_size) {
      return Fail(431, "header_too_large",
                  "request head exceeds max_header_size (" +
                      std::to_string(limits_.max_header_size) + " bytes)");
    }
    if (!p.is_header_done()) return Event::kNeedMore;
    return OnHead();
  }
  uint64_t got = 0;
  for (auto piece : pieces_) got += piece.size();
  switch (mode_) {
    case BodyMode::kSink:
      if (!pieces_.empty()) return Event::kBody;
      break;
    case BodyMode::kSmall:
      if (request_.body.size() + got > limits_.max_small_body) {
        small_too_large_ = true;
        mode_ = BodyMode::kDiscard;
        discarded_ += got + request_.body.size();
        request_.body.clear();
      } else {
        for (auto piece : pieces_) request_.body.append(piece);
      }
      pieces_.clear();
      break;
    case BodyMode::kDiscard:
      discarded_ += got;
      pieces_.clear();
      break;
  }
  if (discarded_ > limits_.max_discard_bytes) return Event::kDiscardLimit;
  return p.is_done() ? Event::kComplete : Event::kNeedMore;
}

RequestReader::Event RequestReader::FeedEof() {
  pieces_.clear();
  auto& p = parser_->p;
  if (p.is_done()) return Event::kComplete;
  beast::error_code ec;
  p.put_eof(ec);
  if (ec) return Fail(400, "bad_request", "connection closed in the middle of a request");
  return Event::kComplete;
}

void RouteBody(core::RequestHandler& handler, RequestReader& reader,
               std::unique_ptr<core::UploadSink>* sink, std::optional<core::Response>* refusal) {
  const core::Request& request = reader.request();
  sink->reset();
  refusal->reset();
  if (handler.IsUpload(request.method)) {  // PUT; POST on the main listener
    core::Response refused;
    *sink = handler.BeginUpload(request, &refused);
    if (*sink) {
      reader.SetBodyMode(BodyMode::kSink);
    } else {
      reader.SetBodyMode(BodyMode::kDiscard);
      *refusal = std::move(refused);
    }
    return;
  }
  reader.SetBodyMode(BodyMode::kSmall);
  if (request.content_length && *request.content_length > core::RequestHandler::kSmallBodyLimit) {
    reader.SetBodyMode(BodyMode::kDiscard);
    *refusal = core::Response::Error(413, "too_large", "request body too large for this method");
  }
}

}  // namespace liveorigin::http
