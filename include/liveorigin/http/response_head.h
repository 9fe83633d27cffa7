// How a response is framed on an HTTP/1.1 connection: its Content-Length,
// whether body bytes follow, whether the connection stays open. A pure
// function, shared by the session and its tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "liveorigin/core/http_message.h"

namespace liveorigin::http {

struct ResponseFraming {
  std::optional<uint64_t> content_length;  // absent: no Content-Length (1xx, 204, 304)
  bool send_body = false;                  // body bytes follow the head
  bool keep_alive = true;
};

// A HEAD never carries a body, whatever the handler answered: stray bytes
// would be read as the next response on a keep-alive connection. `r` is
// turned into a HEAD answer in place for HEAD requests. `keep_alive`: the
// request asked for it and the server is not draining.
ResponseFraming FrameResponse(const core::Request& request, core::Response& r, bool keep_alive);

// Writes the HTTP/1.1 status line and header block of `r` framed by `f` into
// `out` (cleared first; its capacity is reused, so a connection's steady state
// allocates nothing here): status line, Server, Date, the handler's headers in
// order, Content-Length when framed, `Connection: close` when the connection
// ends, and the blank line. A header whose name or value holds CR, LF or NUL
// is left out: it would split the response.
void SerializeResponseHead(const core::Response& r, const ResponseFraming& f, std::string_view date,
                           std::string* out);

}  // namespace liveorigin::http
