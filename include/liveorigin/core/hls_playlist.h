// LL-HLS blocking playlist reload (SPEC §9, RFC 8216bis §6.2.5.2): the
// `_HLS_msn` / `_HLS_part` query of a playlist GET, and how far a media
// playlist has got. Pure functions; bounded by the playlist text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "liveorigin/common/status.h"

namespace liveorigin::core {

// A blocking reload: hold until the playlist holds media sequence number
// `msn` (and, with `part`, its partial segment `part`) or later.
struct BlockingReload {
  uint64_t msn = 0;
  std::optional<uint64_t> part;
};

// From the request target's query. nullopt: no blocking directive.
// InvalidArgument: `_HLS_part` without `_HLS_msn`, or a value that is not a
// decimal number.
Result<std::optional<BlockingReload>> ParseBlockingReload(std::string_view target);

// How far a media playlist has got.
struct PlaylistProgress {
  uint64_t media_sequence = 0;  // EXT-X-MEDIA-SEQUENCE (0 when absent)
  uint64_t segments = 0;        // complete media segments listed
  uint64_t next_parts = 0;      // EXT-X-PART lines after the last segment
  double target_duration = 0;   // EXT-X-TARGETDURATION, seconds (0 when absent)

  // The last complete segment's sequence number, or nullopt when none.
  std::optional<uint64_t> last_msn() const {
    if (segments == 0) return std::nullopt;
    return media_sequence + segments - 1;
  }
  // True when it holds segment `r.msn` (or its part `r.part`) or later.
  bool Satisfies(const BlockingReload& r) const;
  // True when `r.msn` is more than two beyond the last sequence number: the
  // request is answered 400.
  bool TooFarAhead(const BlockingReload& r) const;
};

// The objects a playlist announces with EXT-X-PRELOAD-HINT, as paths below
// the event: URIs relative to the playlist (`playlist_path` is its path below
// the event) or absolute ("/{event}/..."); other URIs are ignored, as are
// hints beyond the first `max_hints`.
std::vector<std::string> PreloadHintPaths(std::string_view text, std::string_view event,
                                          std::string_view playlist_path, size_t max_hints = 8);

// Parses a media playlist; nullopt when the text is not an M3U8 playlist.
std::optional<PlaylistProgress> ParsePlaylistProgress(std::string_view text);

}  // namespace liveorigin::core
