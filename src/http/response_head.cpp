#include "liveorigin/http/response_head.h"

namespace liveorigin::http {

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

}  // namespace liveorigin::http
