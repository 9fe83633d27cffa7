#include "liveorigin/core/content_type.h"

#include "liveorigin/core/http_message.h"

namespace liveorigin::core {
namespace {

std::string_view Extension(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

}  // namespace

std::string ContentTypeFor(std::string_view path, std::string_view put_content_type) {
  struct Entry {
    std::string_view ext, type;
  };
  static constexpr Entry kTypes[] = {
      {"m4s", "video/iso.segment"},
      {"mp4", "video/mp4"},
      {"m4a", "audio/mp4"},
      {"m4v", "video/mp4"},
      {"cmfv", "video/mp4"},
      {"cmfa", "audio/mp4"},
      {"mpd", "application/dash+xml"},
      {"m3u8", "application/vnd.apple.mpegurl"},
      {"vtt", "text/vtt"},
      {"ttml", "application/ttml+xml"},
      {"ts", "video/mp2t"},
  };
  const std::string_view ext = Extension(path);
  for (const auto& e : kTypes) {
    if (EqualsIgnoreCase(ext, e.ext)) return std::string(e.type);
  }
  if (!put_content_type.empty()) return std::string(put_content_type);
  return "application/octet-stream";
}

bool IsManifestPath(std::string_view path) {
  const std::string_view ext = Extension(path);
  return EqualsIgnoreCase(ext, "mpd") || EqualsIgnoreCase(ext, "m3u8");
}

}  // namespace liveorigin::core
