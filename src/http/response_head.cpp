#include "liveorigin/http/response_head.h"

#include <boost/beast/http/status.hpp>
#include <charconv>

namespace liveorigin::http {
namespace {

// No early exit: a plain loop over the bytes, cheap for the short values of a
// response head.
bool SplitsResponse(std::string_view text) {
  bool bad = false;
  for (const char c : text) bad |= (c == '\r') | (c == '\n') | (c == '\0');
  return bad;
}

void AppendNumber(uint64_t n, std::string* out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out->append(digits, static_cast<size_t>(end - digits));
}

}  // namespace

ResponseFraming FrameResponse(const core::Request& request, core::Response& r, bool keep_alive) {
  ResponseFraming f;
  if (request.method == "HEAD") r.ToHeadResponse();
  const bool no_body = r.status < 200 || r.status == 204 || r.status == 304;
  if (!no_body) {
    f.content_length = r.head_length ? *r.head_length : r.length;
    f.send_body = !r.head_length && r.length > 0;
  }
  f.keep_alive = keep_alive && !r.close;
  return f;
}

void SerializeResponseHead(const core::Response& r, const ResponseFraming& f, std::string_view date,
                           std::string* out) {
  out->clear();
  out->append("HTTP/1.1 ");
  AppendNumber(static_cast<uint64_t>(r.status), out);
  out->push_back(' ');
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(r.status));
  out->append(reason.data(), reason.size());
  out->append("\r\nServer: liveorigin\r\nDate: ");
  out->append(date);
  out->append("\r\n");
  for (const auto& [name, value] : r.headers) {
    if (name.empty() || SplitsResponse(name) || SplitsResponse(value)) continue;
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  if (f.content_length) {
    out->append("Content-Length: ");
    AppendNumber(*f.content_length, out);
    out->append("\r\n");
  }
  if (!f.keep_alive) out->append("Connection: close\r\n");
  out->append("\r\n");
}

}  // namespace liveorigin::http
