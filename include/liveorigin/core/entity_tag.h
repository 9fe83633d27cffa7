// Conditional requests (RFC 9110 §13.1.2): If-None-Match against a strong
// ETag. Pure function.
#pragma once

#include <string_view>

namespace liveorigin::core {

// True when `if_none_match` ("a", W/"b", * — a comma-separated list) names
// `etag` (given without quotes), compared weakly as RFC 9110 requires for
// If-None-Match.
bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

}  // namespace liveorigin::core
