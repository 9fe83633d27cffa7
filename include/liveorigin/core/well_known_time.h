// GET /.well-known/time (SPEC §11): the origin's UTC clock for players, as
// the MPD element <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014"
// value="https://origin.example.com/.well-known/time"/> reads it.
#pragma once

#include <string_view>

#include "liveorigin/common/clock.h"
#include "liveorigin/core/http_message.h"

namespace liveorigin::core {

inline constexpr std::string_view kTimePath = "/.well-known/time";

// True for "/.well-known/time", with or without a query.
bool IsTimeTarget(std::string_view target);

// 200, "2024-05-01T12:00:00.123Z" (ISO 8601, UTC, milliseconds), text/plain,
// Cache-Control: no-store.
Response TimeResponse(TimePoint now);

}  // namespace liveorigin::core
