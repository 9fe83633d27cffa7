// CorsPolicy: what browsers need to use the origin directly (SPEC §11) —
// Access-Control-Allow-Origin and Access-Control-Expose-Headers on every
// answer of the main listener, and the answer to OPTIONS (preflight).
// Header values are built once, at construction. Immutable; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "liveorigin/core/http_message.h"

namespace liveorigin::core {

class CorsPolicy {
 public:
  // `allow_origins`: {"*"} (the default) allows every origin; a list of
  // origins ("https://player.example.com") allows those, echoing the one a
  // request names with Vary: Origin; an empty list adds no CORS headers.
  explicit CorsPolicy(std::vector<std::string> allow_origins = {"*"});

  // Adds the CORS answer headers to `response` when the policy allows the
  // request's Origin.
  void Apply(const Request& request, Response* response) const;

  // 204 for OPTIONS: Allow, and for a CORS preflight the allowed methods,
  // request headers and how long a browser may cache this.
  Response Preflight(const Request& request) const;

  static constexpr const char* kAllowMethods = "GET, HEAD, PUT, POST, DELETE, OPTIONS";
  static constexpr const char* kExposeHeaders =
      "Date, ETag, CMSD-Static, CMSD-Dynamic, X-Live-Pipeline, X-Live-Defects, Repr-Digest, "
      "X-Live-Held-Ms";
  static constexpr const char* kAllowHeaders =
      "Authorization, Content-Type, Content-Encoding, Content-Digest, Repr-Digest, "
      "Want-Repr-Digest, Want-Content-Digest, If-None-Match, Range, X-Live-Pipeline, "
      "X-Live-Defects";
  static constexpr int kMaxAgeSeconds = 7200;  // browsers cap preflight caching near 2 h

 private:
  bool any_origin_ = true;
  bool enabled_ = true;
  std::vector<std::string> origins_;
};

}  // namespace liveorigin::core
