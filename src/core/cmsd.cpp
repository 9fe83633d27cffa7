#include "liveorigin/core/cmsd.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "liveorigin/common/structured_fields.h"
#include "liveorigin/core/content_type.h"

namespace liveorigin::core {

using storage::CandidateRecord;
using storage::ObjectKind;

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsCaptionType(std::string_view content_type) {
  return StartsWith(content_type, "text/vtt") || StartsWith(content_type, "application/ttml+xml");
}

// RFC 3986 pchar (unreserved / sub-delims / ':' / '@') plus '/'; everything
// else percent-encoded. '"' and '\' are encoded, so the result is always a
// valid structured-field String.
void AppendEncodedPath(std::string_view path, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("-._~!$&'()*+,;=:@/").find(c) != std::string_view::npos;
    if (plain) {
      out->push_back(c);
    } else {
      out->push_back('%');
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 0xF]);
    }
  }
}

}  // namespace

std::string SerializeCmsdStatic(const CmsdStatic& f) {
  sf::DictionaryWriter w;
  auto put = [&](auto&& write) {
    sf::DictionaryWriter attempt = w;
    write(attempt);
    if (attempt.status().ok()) w = std::move(attempt);
  };
  if (f.availability_ms) put([&](sf::DictionaryWriter& x) { x.Integer("at", *f.availability_ms); });
  if (f.bitrate_kbps) put([&](sf::DictionaryWriter& x) { x.Integer("br", *f.bitrate_kbps); });
  if (f.duration_ms) put([&](sf::DictionaryWriter& x) { x.Integer("d", *f.duration_ms); });
  if (!f.node.empty()) put([&](sf::DictionaryWriter& x) { x.String("n", f.node); });
  if (!f.next_object.empty()) put([&](sf::DictionaryWriter& x) { x.String("nor", f.next_object); });
  if (!f.object_type.empty()) put([&](sf::DictionaryWriter& x) { x.Token("ot", f.object_type); });
  if (f.live) put([&](sf::DictionaryWriter& x) { x.Token("st", "l"); });
  return w.value();
}

CmsdStatic CmsdStaticFor(const CandidateRecord& record, const config::EventConfig& event,
                         std::string_view node) {
  CmsdStatic f;
  f.availability_ms = record.first_byte_unix_ms ? record.first_byte_unix_ms : record.ingest_unix_ms;
  f.node = std::string(node);
  switch (record.kind) {
    case ObjectKind::kSegment: {
      const int64_t d = event.segment_duration.count();
      f.duration_ms = d;
      if (d > 0) {
        // bits per millisecond = kilobits per second
        f.bitrate_kbps = static_cast<int64_t>(
            std::llround(static_cast<double>(record.size) * 8.0 / static_cast<double>(d)));
      }
      f.object_type = record.object_type;
      if (!f.object_type.empty() && f.object_type != "v" && f.object_type != "a" &&
          f.object_type != "av" && f.object_type != "c") {
        f.object_type.clear();
      }
      const auto n = record.id.number;
      if (n && !record.last_segment &&
          *n < static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        f.next_object = RelativeReference(record.id.path,
                                          event.media_template.Format(record.id.rendition, *n + 1));
      }
      break;
    }
    case ObjectKind::kInit:
      f.object_type = "i";
      break;
    case ObjectKind::kOther:
      if (IsManifestPath(record.id.path)) {
        f.object_type = "m";
      } else if (IsCaptionType(record.content_type)) {
        f.object_type = "c";
      }
      break;
  }
  return f;
}

CmsdStatic CmsdStaticForUpload(const storage::CandidateId& id, storage::ObjectKind kind,
                               const config::EventConfig& event, std::string_view node,
                               int64_t first_byte_unix_ms) {
  storage::CandidateRecord partial;
  partial.id = id;
  partial.kind = kind;
  partial.first_byte_unix_ms = first_byte_unix_ms;
  CmsdStatic f = CmsdStaticFor(partial, event, node);
  f.bitrate_kbps.reset();
  if (kind == storage::ObjectKind::kSegment) f.object_type.clear();
  return f;
}

std::string MediaObjectType(const CandidateRecord& record, const media::InitSegmentInfo* init) {
  bool video = false, audio = false, text = false;
  if (init) {
    for (const auto& t : record.tracks) {
      const media::TrackInfo* info = init->FindTrack(t.track_id);
      if (!info) continue;
      video = video || info->handler == media::HandlerType::kVideo;
      audio = audio || info->handler == media::HandlerType::kAudio;
      text = text || info->handler == media::HandlerType::kText;
    }
  }
  if (video && audio) return "av";
  if (video) return "v";
  if (audio) return "a";
  if (text) return "c";
  if (StartsWith(record.content_type, "audio/")) return "a";
  if (IsCaptionType(record.content_type)) return "c";
  return "";
}

std::string RelativeReference(std::string_view from, std::string_view to) {
  // Directories of `from`, and how many of them `to` shares.
  const size_t from_dir_end = from.rfind('/');
  const std::string_view from_dir = from_dir_end == std::string_view::npos
                                        ? std::string_view()
                                        : from.substr(0, from_dir_end + 1);
  size_t common = 0;  // length of the shared leading directories, ending with '/'
  for (size_t i = 0; i < from_dir.size() && i < to.size() && from_dir[i] == to[i]; ++i) {
    if (from_dir[i] == '/') common = i + 1;
  }
  std::string out;
  for (size_t i = common; i < from_dir.size(); ++i) {
    if (from_dir[i] == '/') out += "../";
  }
  std::string_view rest = to.substr(common);
  // A first segment with ':' would read as a scheme: "./" keeps it a path.
  if (out.empty()) {
    const size_t colon = rest.find(':');
    if (colon != std::string_view::npos && colon < rest.find('/')) out = "./";
  }
  AppendEncodedPath(rest, &out);
  return out;
}

std::string CmsdDynamicPrefix(std::string_view node) {
  std::string out;
  if (!sf::SerializeBareItem(sf::BareItem(std::string(node)), &out).ok()) return "\"liveorigin\"";
  return out;
}

std::string SerializeCmsdDynamic(std::string_view prefix, int64_t response_delay_ms, bool duress) {
  // Per response: one allocation.
  char digits[24];
  const auto end =
      std::to_chars(digits, digits + sizeof digits, std::max<int64_t>(0, response_delay_ms)).ptr;
  std::string out;
  out.reserve(prefix.size() + 4 + static_cast<size_t>(end - digits) + 3);
  out.append(prefix);
  out.append(";rd=");
  out.append(digits, end);
  if (duress) out.append(";du");
  return out;
}

}  // namespace liveorigin::core
