// Serialization of the stored records (private): candidates, sticky
// selections and operator controls.
// A compact, versioned binary form: start-up decodes every stored record, so
// decoding speed bounds how fast a restarted origin is ready.
#pragma once

#include <limits>
#include <string>
#include <string_view>

#include "liveorigin/common/status.h"
#include "liveorigin/storage/candidate_record.h"
#include "liveorigin/storage/operator_records.h"

namespace liveorigin::storage {

std::string EncodeCandidate(const CandidateRecord& record);
Result<CandidateRecord> DecodeCandidate(std::string_view value);
std::string EncodeSelection(const SelectionRecord& selection);
Result<SelectionRecord> DecodeSelection(std::string_view value);
std::string EncodePipelineControl(const PipelineControlRecord& record);
Result<PipelineControlRecord> DecodePipelineControl(std::string_view value);
std::string EncodeForcedSelection(const ForcedSelectionRecord& record);
Result<ForcedSelectionRecord> DecodeForcedSelection(std::string_view value);
std::string EncodeAudit(const AuditRecord& record);
Result<AuditRecord> DecodeAudit(std::string_view value);

}  // namespace liveorigin::storage
