#include "liveorigin/core/well_known_time.h"

#include "liveorigin/common/units.h"

namespace liveorigin::core {

bool IsTimeTarget(std::string_view target) {
  if (target.substr(0, kTimePath.size()) != kTimePath) return false;
  return target.size() == kTimePath.size() || target[kTimePath.size()] == '?';
}

Response TimeResponse(TimePoint now) {
  Response r;
  r.SetBody(FormatTimestamp(now), "text/plain; charset=utf-8");
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

}  // namespace liveorigin::core
