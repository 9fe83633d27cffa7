#include "liveorigin/core/cors.h"

#include <algorithm>

namespace liveorigin::core {

CorsPolicy::CorsPolicy(std::vector<std::string> allow_origins)
    : any_origin_(std::find(allow_origins.begin(), allow_origins.end(), "*") !=
                  allow_origins.end()),
      enabled_(!allow_origins.empty()),
      origins_(std::move(allow_origins)) {}

void CorsPolicy::Apply(const Request& request, Response* response) const {
  if (!enabled_) return;
  if (any_origin_) {
    response->headers.emplace_back("Access-Control-Allow-Origin", "*");
  } else {
    // The answer depends on Origin: caches must keep one copy per origin.
    response->headers.emplace_back("Vary", "Origin");
    const auto origin = request.Header("Origin");
    if (!origin || std::find(origins_.begin(), origins_.end(), *origin) == origins_.end()) return;
    response->headers.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
  }
  response->headers.emplace_back("Access-Control-Expose-Headers", kExposeHeaders);
}

Response CorsPolicy::Preflight(const Request& request) const {
  Response r;
  r.status = 204;
  r.SetHeader("Allow", kAllowMethods);
  if (enabled_ && request.Header("Access-Control-Request-Method")) {
    r.SetHeader("Access-Control-Allow-Methods", kAllowMethods);
    r.SetHeader("Access-Control-Allow-Headers", kAllowHeaders);
    r.SetHeader("Access-Control-Max-Age", std::to_string(kMaxAgeSeconds));
  }
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

}  // namespace liveorigin::core
