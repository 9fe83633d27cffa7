#include "liveorigin/core/entity_tag.h"

namespace liveorigin::core {

bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*") return true;
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item.size() == etag.size() + 2 && item.front() == '"' && item.back() == '"' &&
        item.substr(1, etag.size()) == etag) {
      return true;
    }
  }
  return false;
}

}  // namespace liveorigin::core
