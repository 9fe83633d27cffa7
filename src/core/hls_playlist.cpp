#include "liveorigin/core/hls_playlist.h"

#include <charconv>
#include <cstdlib>
#include <string>

namespace liveorigin::core {
namespace {

std::optional<uint64_t> Decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<std::optional<BlockingReload>> ParseBlockingReload(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::optional<BlockingReload>();
  std::string_view query = target.substr(q + 1);
  std::optional<std::string_view> msn, part;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    if (name == "_HLS_msn") msn = value;
    if (name == "_HLS_part") part = value;
  }
  if (!msn && !part) return std::optional<BlockingReload>();
  if (!msn) return Status::InvalidArgument("_HLS_part needs _HLS_msn");
  BlockingReload r;
  const auto m = Decimal(*msn);
  if (!m) return Status::InvalidArgument("_HLS_msn must be a decimal number");
  r.msn = *m;
  if (part) {
    const auto p = Decimal(*part);
    if (!p) return Status::InvalidArgument("_HLS_part must be a decimal number");
    r.part = *p;
  }
  return std::optional<BlockingReload>(r);
}

bool PlaylistProgress::Satisfies(const BlockingReload& r) const {
  const auto last = last_msn();
  if (last && *last >= r.msn) return true;
  if (!r.part) return false;
  // Parts listed after the last segment belong to the next sequence number.
  const uint64_t next = media_sequence + segments;
  return r.msn == next && next_parts > *r.part;
}

bool PlaylistProgress::TooFarAhead(const BlockingReload& r) const {
  const uint64_t next = media_sequence + segments;  // last + 1 (or the first to come)
  return r.msn > next + 1;
}

std::vector<std::string> PreloadHintPaths(std::string_view text, std::string_view event,
                                          std::string_view playlist_path, size_t max_hints) {
  std::vector<std::string> out;
  constexpr std::string_view kTag = "#EXT-X-PRELOAD-HINT:";
  const size_t slash = playlist_path.rfind('/');
  const std::string_view dir =
      slash == std::string_view::npos ? std::string_view() : playlist_path.substr(0, slash + 1);
  const std::string absolute_prefix = "/" + std::string(event) + "/";
  while (!text.empty() && out.size() < max_hints) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!StartsWith(line, kTag)) continue;
    const size_t at = line.find("URI=\"");
    if (at == std::string_view::npos) continue;
    const size_t end = line.find('"', at + 5);
    if (end == std::string_view::npos) continue;
    std::string_view uri = line.substr(at + 5, end - at - 5);
    uri = uri.substr(0, uri.find('?'));
    if (uri.empty() || uri.find("://") != std::string_view::npos) continue;
    std::string path;
    if (uri.front() == '/') {
      if (!StartsWith(uri, absolute_prefix)) continue;
      path = std::string(uri.substr(absolute_prefix.size()));
    } else {
      path = std::string(dir) + std::string(uri);
    }
    // Only plain names: the request path validation refuses the rest anyway.
    if (path.find("..") != std::string::npos || path.find("//") != std::string::npos) continue;
    out.push_back(std::move(path));
  }
  return out;
}

std::optional<PlaylistProgress> ParsePlaylistProgress(std::string_view text) {
  PlaylistProgress p;
  bool header = false;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (!header) {
      if (line != "#EXTM3U") return std::nullopt;
      header = true;
      continue;
    }
    if (StartsWith(line, "#EXT-X-MEDIA-SEQUENCE:")) {
      if (auto v = Decimal(line.substr(22))) p.media_sequence = *v;
    } else if (StartsWith(line, "#EXT-X-TARGETDURATION:")) {
      if (auto v = Decimal(line.substr(22))) p.target_duration = static_cast<double>(*v);
    } else if (StartsWith(line, "#EXT-X-PART:")) {
      ++p.next_parts;
    } else if (line.front() != '#') {
      ++p.segments;  // a URI line ends a media segment
      p.next_parts = 0;
    }
  }
  if (!header) return std::nullopt;
  return p;
}

}  // namespace liveorigin::core
