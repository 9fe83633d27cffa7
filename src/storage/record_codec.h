// Serialization of CandidateRecord and SelectionRecord values (private).
// JSON keeps stored metadata readable with `ldb` and tolerant of added fields.
#pragma once

#include <string>
#include <string_view>

#include "liveorigin/common/status.h"
#include "liveorigin/storage/candidate_record.h"

namespace liveorigin::storage {

std::string EncodeCandidate(const CandidateRecord& record);
Result<CandidateRecord> DecodeCandidate(std::string_view value);
std::string EncodeSelection(const SelectionRecord& selection);
Result<SelectionRecord> DecodeSelection(std::string_view value);

}  // namespace liveorigin::storage
