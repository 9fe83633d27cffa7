// Content types by file extension (SPEC §4.4).
#pragma once

#include <string>
#include <string_view>

namespace liveorigin::core {

// The type for `path` by its extension; else `put_content_type` when non-empty;
// else application/octet-stream.
std::string ContentTypeFor(std::string_view path, std::string_view put_content_type);

// True for manifests and playlists (.mpd, .m3u8): short cache lifetimes.
bool IsManifestPath(std::string_view path);

}  // namespace liveorigin::core
