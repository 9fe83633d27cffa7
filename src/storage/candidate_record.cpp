#include "liveorigin/storage/candidate_record.h"

#include <algorithm>

namespace liveorigin::storage {

std::vector<std::string> CandidateRecord::AllDefects() const {
  std::vector<std::string> out;
  for (const auto* list : {&origin_defects, &header_defects}) {
    for (const auto& d : *list) {
      if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
    }
  }
  return out;
}

}  // namespace liveorigin::storage
