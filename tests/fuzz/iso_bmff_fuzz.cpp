// libFuzzer target for the ISO-BMFF inspector: any input, as an init segment
// and as a media segment (with and without the init it yields).
#include <cstddef>
#include <cstdint>
#include <span>

#include "liveorigin/media/iso_bmff.h"

namespace {

using liveorigin::media::ParseStatus;

// Invariants the parser promises; a violation aborts like a crash.
void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckMedia(const liveorigin::media::MediaParseResult& r) {
  Check((r.error.status == ParseStatus::kOk) == r.error.message.empty());
  Check(r.info.mdat_bytes_present <= r.info.mdat_bytes_described);
  if (r.error.status == ParseStatus::kOk) {
    Check(r.info.mdat_bytes_present == r.info.mdat_bytes_described);
    Check(r.info.fragment_count > 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  const liveorigin::media::InitParseResult init = liveorigin::media::ParseInitSegment(input);
  Check((init.error.status == ParseStatus::kOk) == init.error.message.empty());
  CheckMedia(liveorigin::media::ParseMediaSegment(input));
  CheckMedia(liveorigin::media::ParseMediaSegment(input, &init.info));
  return 0;
}
