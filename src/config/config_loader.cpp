#include "liveorigin/config/config_loader.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>
#include <utility>

#include "liveorigin/common/units.h"

namespace liveorigin::config {
namespace {

namespace fs = std::filesystem;

constexpr uintmax_t kMaxFileSize = 1u << 20;  // configuration files are small
constexpr size_t kMaxIdLength = 64;
constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
constexpr uint64_t kMaxUint32 = std::numeric_limits<uint32_t>::max();

// A 1-based position; {0, 0} when unknown.
struct Position {
  int line = 0;
  int column = 0;
};

Position ToPosition(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const char* TypeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "nothing";
  }
}

// One key/value pair of a map; `name` is the dotted key for messages ("limits.idle_timeout").
struct Field {
  YAML::Node key;
  YAML::Node value;
  std::string name;
};

// Reports problems of one document into `errors`, all tagged with `file`.
class DocumentReader {
 public:
  DocumentReader(std::string file, std::vector<ConfigError>* errors)
      : file_(std::move(file)), errors_(errors) {}

  const std::string& file() const { return file_; }
  size_t error_count() const { return count_; }

  void Error(Position pos, std::string message) {
    errors_->push_back({file_, pos.line, pos.column, std::move(message)});
    ++count_;
  }
  void Error(const YAML::Node& node, std::string message) {
    Error(ToPosition(node.Mark()), std::move(message));
  }
  // Points at the value, or at the key when the value is missing (yaml-cpp
  // gives an empty value the position of whatever follows it).
  void Error(const Field& field, std::string message) {
    Error(field.value.IsNull() ? field.key : field.value, std::move(message));
  }

  // Splits a map into its known fields; unknown and duplicate keys are
  // reported. REQUIRES: node.IsMap().
  void ReadMap(const YAML::Node& node, const std::string& prefix,
               std::initializer_list<std::string_view> known, std::map<std::string, Field>* out) {
    for (const auto& entry : node) {
      // Copies: yaml-cpp iterators hand out proxies, so references into them dangle.
      const YAML::Node key = entry.first;
      if (!key.IsScalar()) {
        Error(key, "keys must be plain strings, got " + std::string(TypeName(key)));
        continue;
      }
      const std::string& name = key.Scalar();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        Error(key, UnknownKeyMessage(prefix, name, known));
        continue;
      }
      auto [pos, inserted] = out->try_emplace(name, Field{key, entry.second, prefix + name});
      if (!inserted) {
        const Position first = ToPosition(pos->second.key.Mark());
        Error(key, "duplicate key " + Quote(prefix + name) + " (first defined at line " +
                       std::to_string(first.line) + ")");
      }
    }
  }

  // A map-valued field such as `limits`; false (reported) when not a map.
  bool ExpectMap(const Field& field) {
    if (field.value.IsMap()) return true;
    Error(field, Quote(field.name) + " must be a map, got " + TypeName(field.value));
    return false;
  }

  std::optional<std::string> Scalar(const Field& field) {
    if (field.value.IsScalar()) return field.value.Scalar();
    if (field.value.IsNull()) {
      Error(field, Quote(field.name) + " has no value");
    } else {
      Error(field, Quote(field.name) + " must be a single value, got " + TypeName(field.value));
    }
    return std::nullopt;
  }

  std::optional<uint64_t> Unsigned(const Field& field, uint64_t max) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    const std::string& s = *text;
    uint64_t value = 0;
    const char* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, value);
    if (ec == std::errc() && ptr == end && !s.empty()) {
      if (value <= max) return value;
      Error(field,
            Quote(field.name) + " is too large: " + s + " (maximum " + std::to_string(max) + ")");
      return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range) {
      Error(field,
            Quote(field.name) + " is too large: " + s + " (maximum " + std::to_string(max) + ")");
    } else if (s.size() > 1 && s[0] == '-' &&
               std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      Error(field, Quote(field.name) + " must not be negative, got " + s);
    } else {
      Error(field, Quote(field.name) + " must be an unsigned integer, got " + Quote(s));
    }
    return std::nullopt;
  }

  // A secret given inline (`token`), in a file (`token_file`: the first line,
  // surrounding whitespace trimmed) or in an environment variable (`token_env`).
  // At most one of the three; the value never appears in messages.
  std::optional<std::string> Secret(const std::map<std::string, Field>& f, const std::string& base,
                                    bool* present) {
    const Field* inline_field = nullptr;
    const Field* file_field = nullptr;
    const Field* env_field = nullptr;
    if (auto it = f.find(base); it != f.end()) inline_field = &it->second;
    if (auto it = f.find(base + "_file"); it != f.end()) file_field = &it->second;
    if (auto it = f.find(base + "_env"); it != f.end()) env_field = &it->second;
    const int given = (inline_field != nullptr) + (file_field != nullptr) + (env_field != nullptr);
    *present = given > 0;
    if (given == 0) return std::nullopt;
    if (given > 1) {
      const Field* second = file_field && inline_field ? file_field : env_field;
      Error(*second, "give only one of '" + base + "', '" + base + "_file' and '" + base + "_env'");
      return std::nullopt;
    }
    const Field& field = inline_field ? *inline_field : file_field ? *file_field : *env_field;
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    std::string value;
    if (inline_field) {
      value = *text;
    } else if (file_field) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(*text, ec);
      if (ec) {
        Error(field, Quote(field.name) + ": cannot read " + Quote(*text) + ": " + ec.message());
        return std::nullopt;
      }
      if (size > 4096) {
        Error(field, Quote(field.name) + ": " + Quote(*text) + " is larger than 4 KiB");
        return std::nullopt;
      }
      std::ifstream in(*text, std::ios::binary);
      std::getline(in, value);
      if (!in && !in.eof()) {
        Error(field, Quote(field.name) + ": cannot read " + Quote(*text));
        return std::nullopt;
      }
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
        value.pop_back();
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
        value.erase(0, 1);
    } else {
      const char* env = std::getenv(text->c_str());
      if (!env) {
        Error(field, Quote(field.name) + ": environment variable " + Quote(*text) + " is not set");
        return std::nullopt;
      }
      value = env;
    }
    if (value.empty()) {
      Error(field, inline_field ? Quote(field.name) + " must not be empty (omit '" + base +
                                      "' for no credential)"
                                : Quote(field.name) + " gives an empty token");
      return std::nullopt;
    }
    if (!std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
      Error(field, Quote(field.name) + (inline_field ? " must" : "'s token must") +
                       " be printable ASCII without spaces");
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> Bool(const Field& field) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    if (*text == "true" || *text == "True" || *text == "TRUE") return true;
    if (*text == "false" || *text == "False" || *text == "FALSE") return false;
    Error(field, Quote(field.name) + " must be true or false, got " + Quote(*text));
    return std::nullopt;
  }

  std::optional<std::chrono::milliseconds> Duration(const Field& field) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    auto parsed = ParseDuration(*text);
    if (!parsed.ok()) {
      Error(field, Quote(field.name) + ": " + parsed.status().message());
      return std::nullopt;
    }
    return *parsed;
  }

  std::optional<uint64_t> Size(const Field& field) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    auto parsed = ParseSize(*text);
    if (!parsed.ok()) {
      Error(field, Quote(field.name) + ": " + parsed.status().message());
      return std::nullopt;
    }
    return *parsed;
  }

  std::optional<std::chrono::system_clock::time_point> Timestamp(const Field& field) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    auto parsed = ParseTimestamp(*text);
    if (!parsed.ok()) {
      Error(field, Quote(field.name) + ": " + parsed.status().message());
      return std::nullopt;
    }
    return *parsed;
  }

  std::optional<std::string> OneOf(const Field& field,
                                   std::initializer_list<std::string_view> allowed) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    if (std::find(allowed.begin(), allowed.end(), *text) != allowed.end()) return text;
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    Error(field, Quote(field.name) + " must be one of " + list + ", got " + Quote(*text));
    return std::nullopt;
  }

  std::optional<fs::path> Path(const Field& field) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    if (text->empty()) {
      Error(field, Quote(field.name) + " must not be empty");
      return std::nullopt;
    }
    if (text->find('\0') != std::string::npos) {
      Error(field, Quote(field.name) + " must not contain a NUL character");
      return std::nullopt;
    }
    return fs::path(*text);
  }

  // [A-Za-z0-9._-]{1,64}, and not "." or "..".
  std::optional<std::string> Id(const Field& field) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    const std::string& s = *text;
    const bool chars_ok = std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-';
    });
    if (s.empty() || s.size() > kMaxIdLength || !chars_ok || s == "." || s == "..") {
      Error(field, Quote(field.name) + " must be 1 to 64 characters from A-Z a-z 0-9 . _ - " +
                       "(and not '.' or '..'), got " + Quote(s));
      return std::nullopt;
    }
    return text;
  }

  std::optional<SegmentTemplate> Template(const Field& field) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    auto compiled = SegmentTemplate::Compile(*text);
    if (!compiled.ok()) {
      Error(field, Quote(field.name) + ": " + compiled.status().message());
      return std::nullopt;
    }
    return std::move(compiled).value();
  }

  // "host:port" with an IPv4 host, or "[v6]:port".
  std::optional<Endpoint> Address(const Field& field) {
    auto text = Scalar(field);
    if (!text) return std::nullopt;
    const std::string& s = *text;
    auto fail = [&](const std::string& why) -> std::optional<Endpoint> {
      Error(field, Quote(field.name) + ": invalid address " + Quote(s) + ": " + why);
      return std::nullopt;
    };
    if (s.find('\0') != std::string::npos) return fail("contains a NUL character");
    std::string host;
    std::string_view port_text;
    if (!s.empty() && s[0] == '[') {
      const size_t close = s.find(']');
      if (close == std::string::npos) return fail("missing ']' after the IPv6 address");
      host = s.substr(1, close - 1);
      if (close + 1 >= s.size() || s[close + 1] != ':') {
        return fail("expected ':<port>' after ']', e.g. [::1]:8080");
      }
      port_text = std::string_view(s).substr(close + 2);
      in6_addr addr6{};
      if (inet_pton(AF_INET6, host.c_str(), &addr6) != 1) {
        return fail(Quote(host) + " is not an IPv6 address");
      }
    } else {
      const size_t colon = s.rfind(':');
      if (colon == std::string::npos) return fail("expected host:port, e.g. 0.0.0.0:8080");
      if (s.find(':') != colon) {
        return fail("an IPv6 address must be in brackets, e.g. [::1]:8080");
      }
      host = s.substr(0, colon);
      port_text = std::string_view(s).substr(colon + 1);
      if (host.empty()) return fail("missing host; use 0.0.0.0 for every interface");
      in_addr addr4{};
      if (inet_pton(AF_INET, host.c_str(), &addr4) != 1) {
        return fail(Quote(host) +
                    " is not an IPv4 address (host names are not resolved; use e.g. 127.0.0.1)");
      }
    }
    uint32_t port = 0;
    const char* end = port_text.data() + port_text.size();
    auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || port_text.size() > 5 || ec != std::errc() || ptr != end ||
        port > 65535) {
      return fail("port must be a number from 0 to 65535");
    }
    return Endpoint{host, static_cast<uint16_t>(port)};
  }

 private:
  static std::string UnknownKeyMessage(const std::string& prefix, const std::string& name,
                                       std::initializer_list<std::string_view> known) {
    std::string message = "unknown key " + Quote(prefix + name);
    std::string_view best;
    size_t best_distance = 3;
    for (std::string_view k : known) {
      const size_t d = EditDistance(name, k);
      if (d < best_distance) {
        best_distance = d;
        best = k;
      }
    }
    if (!best.empty())
      return message + " (did you mean " + Quote(prefix + std::string(best)) + "?)";
    message += " (known keys:";
    for (std::string_view k : known) message += " " + std::string(k);
    return message + ")";
  }

  std::string file_;
  std::vector<ConfigError>* errors_;
  size_t count_ = 0;
};

// Records where each document starts and nothing else.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Parses `text` into its single YAML document; reports syntax errors, empty
// files and multiple documents. The root must be a map.
//
// YAML::LoadAll is not used: on a stray top-level ',' yaml-cpp 0.7 keeps
// returning empty documents at the same position, so LoadAll never returns
// and exhausts memory. Documents are counted with a bounded loop instead.
std::optional<YAML::Node> LoadDocument(const std::string& text, DocumentReader* r) {
  YAML::Node root;
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts docs;
    while (docs.starts.size() < 3 && parser.HandleNextDocument(docs)) {
    }
    for (size_t i = 1; i < docs.starts.size(); ++i) {
      const YAML::Mark& mark = docs.starts[i];
      if (mark.pos == docs.starts[i - 1].pos) {  // the parser made no progress
        const size_t pos = static_cast<size_t>(mark.pos);
        r->Error(ToPosition(mark),
                 "YAML syntax error: unexpected " +
                     (pos < text.size() ? Quote(text.substr(pos, 1)) : std::string("end of file")));
        return std::nullopt;
      }
    }
    if (docs.starts.size() > 1) {
      r->Error(ToPosition(docs.starts[1]),
               "more than one YAML document (check the indentation of the first key)");
      return std::nullopt;
    }
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    r->Error(ToPosition(e.mark), "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  if (!root.IsDefined() || root.IsNull()) {
    r->Error(Position{}, "empty file: expected a map of settings");
    return std::nullopt;
  }
  if (!root.IsMap()) {
    r->Error(root, std::string("the top level must be a map of settings, got ") + TypeName(root));
    return std::nullopt;
  }
  return root;
}

bool ReadFile(const fs::path& file, std::string* text, DocumentReader* r) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(file, ec);
  if (ec) {
    r->Error(Position{}, "cannot read file: " + ec.message());
    return false;
  }
  if (size > kMaxFileSize) {
    r->Error(Position{}, "file is too large (" + std::to_string(size) + " bytes; maximum " +
                             std::to_string(kMaxFileSize) + ")");
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  std::string data(static_cast<size_t>(size), '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in.is_open() || in.bad()) {
    r->Error(Position{}, "cannot read file");
    return false;
  }
  data.resize(static_cast<size_t>(in.gcount()));  // the file may have shrunk meanwhile
  *text = std::move(data);
  return true;
}

const Field* Get(const std::map<std::string, Field>& fields, const std::string& key) {
  auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

template <typename T, typename Reader>
void Assign(const std::map<std::string, Field>& fields, const std::string& key, T* target,
            Reader read) {
  if (const Field* f = Get(fields, key)) {
    if (auto v = read(*f)) *target = static_cast<T>(*v);
  }
}

// The host name, reduced to [A-Za-z0-9._-]{1,64}; "liveorigin" when unknown.
std::string DefaultNodeName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "liveorigin";
  std::string name;
  for (const char* p = buf; *p && name.size() < kMaxIdLength; ++p) {
    const char c = *p;
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    name.push_back(ok ? c : '-');
  }
  if (name.empty() || name == "." || name == "..") return "liveorigin";
  return name;
}

bool IsWildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

void ParseLimits(const Field& field, DocumentReader* r, Limits* limits) {
  if (!r->ExpectMap(field)) return;
  std::map<std::string, Field> f;
  r->ReadMap(field.value, "limits.",
             {"max_object_size", "max_header_size", "idle_timeout", "max_connections",
              "max_held_requests", "max_inflight_requests", "min_free_disk", "shed_behind_segments",
              "max_storage_latency", "worker_threads", "drain_timeout"},
             &f);
  auto positive_size = [r](const Field& x) -> std::optional<uint64_t> {
    auto v = r->Size(x);
    if (v && *v == 0) {
      r->Error(x, Quote(x.name) + " must be greater than 0");
      return std::nullopt;
    }
    return v;
  };
  auto positive_count = [r](const Field& x) -> std::optional<uint64_t> {
    auto v = r->Unsigned(x, kMaxUint32);
    if (v && *v == 0) {
      r->Error(x, Quote(x.name) + " must be greater than 0");
      return std::nullopt;
    }
    return v;
  };
  Assign(f, "max_object_size", &limits->max_object_size, positive_size);
  Assign(f, "max_header_size", &limits->max_header_size, positive_size);
  Assign(f, "idle_timeout", &limits->idle_timeout, [r](const Field& x) {
    auto v = r->Duration(x);
    if (v && v->count() == 0) {
      r->Error(x, Quote(x.name) + " must be greater than 0");
      return std::optional<std::chrono::milliseconds>();
    }
    return v;
  });
  Assign(f, "max_connections", &limits->max_connections, positive_count);
  Assign(f, "max_held_requests", &limits->max_held_requests,
         [r](const Field& x) { return r->Unsigned(x, kMaxUint32); });
  Assign(f, "max_inflight_requests", &limits->max_inflight_requests, positive_count);
  Assign(f, "min_free_disk", &limits->min_free_disk, [r](const Field& x) { return r->Size(x); });
  Assign(f, "shed_behind_segments", &limits->shed_behind_segments,
         [r](const Field& x) { return r->Unsigned(x, kMaxUint32); });
  Assign(f, "max_storage_latency", &limits->max_storage_latency,
         [r](const Field& x) { return r->Duration(x); });
  Assign(f, "worker_threads", &limits->worker_threads,
         [r](const Field& x) { return r->Unsigned(x, 1024); });
  Assign(f, "drain_timeout", &limits->drain_timeout,
         [r](const Field& x) { return r->Duration(x); });
}

void ParseLog(const Field& field, DocumentReader* r, LogConfig* log) {
  if (!r->ExpectMap(field)) return;
  std::map<std::string, Field> f;
  r->ReadMap(field.value, "log.", {"level", "format", "access_log"}, &f);
  Assign(f, "level", &log->level, [r](const Field& x) {
    return r->OneOf(x, {"trace", "debug", "info", "warn", "error", "off"});
  });
  Assign(f, "format", &log->format, [r](const Field& x) { return r->OneOf(x, {"text", "json"}); });
  Assign(f, "access_log", &log->access_log, [r](const Field& x) { return r->Bool(x); });
}

// An origin as browsers send it in Origin: scheme "://" host [":" port], or "*".
bool IsOriginValue(const std::string& s) {
  if (s == "*") return true;
  const size_t sep = s.find("://");
  if (sep == std::string::npos || sep == 0 || sep + 3 >= s.size()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == ',' || c == '"') return false;
  }
  return s.find('/', sep + 3) == std::string::npos;
}

void ParseCors(const Field& field, DocumentReader* r, CorsConfig* cors) {
  if (!r->ExpectMap(field)) return;
  std::map<std::string, Field> f;
  r->ReadMap(field.value, "cors.", {"allow_origin"}, &f);
  const Field* x = Get(f, "allow_origin");
  if (!x) return;
  std::vector<std::string> origins;
  std::vector<YAML::Node> nodes;
  if (x->value.IsSequence()) {
    nodes = std::vector<YAML::Node>(x->value.begin(), x->value.end());
  } else if (x->value.IsScalar()) {
    nodes.push_back(x->value);
  } else {
    r->Error(*x, "'cors.allow_origin' must be \"*\", an origin, or a list of origins");
    return;
  }
  for (const auto& n : nodes) {
    if (!n.IsScalar() || !IsOriginValue(n.Scalar())) {
      r->Error(n,
               "'cors.allow_origin' entries must be \"*\" or an origin like "
               "https://player.example.com (scheme, host, optional port; no path)");
      return;
    }
    origins.push_back(n.Scalar());
  }
  if (origins.size() > 1 && std::find(origins.begin(), origins.end(), "*") != origins.end()) {
    r->Error(*x, "'cors.allow_origin' lists \"*\" together with origins; use one or the other");
    return;
  }
  cors->allow_origins = std::move(origins);
}

// nats://host:port (or tls://); host may be a name or an address.
bool IsNatsUrl(const std::string& s) {
  std::string_view v = s;
  if (v.starts_with("nats://")) {
    v.remove_prefix(7);
  } else if (v.starts_with("tls://")) {
    v.remove_prefix(6);
  } else {
    return false;
  }
  if (v.empty() || v.size() > 255) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == ':' || c == '[' || c == ']' || c == '@';
  });
}

void ParseNats(const Field& field, DocumentReader* r, NatsStorageConfig* nats,
               std::optional<std::string>* node, std::optional<Field>* node_field) {
  if (!r->ExpectMap(field)) return;
  std::map<std::string, Field> f;
  r->ReadMap(field.value, "storage.nats.",
             {"servers", "replicas", "prefix", "node", "timeout", "recheck"}, &f);
  if (const Field* x = Get(f, "servers")) {
    std::vector<YAML::Node> items;
    if (x->value.IsSequence()) {
      items = std::vector<YAML::Node>(x->value.begin(), x->value.end());
    } else if (x->value.IsScalar()) {
      items.push_back(x->value);
    } else {
      r->Error(*x, "'storage.nats.servers' must be a list of nats://host:port URLs");
    }
    if (x->value.IsSequence() && items.empty()) {
      r->Error(*x, "'storage.nats.servers' must list at least one server");
    }
    for (const auto& item : items) {
      if (!item.IsScalar() || !IsNatsUrl(item.Scalar())) {
        r->Error(item, "'storage.nats.servers' entries must be URLs like nats://127.0.0.1:4222");
        continue;
      }
      nats->servers.push_back(item.Scalar());
    }
  }
  Assign(f, "replicas", &nats->replicas, [r](const Field& x) -> std::optional<uint64_t> {
    auto v = r->Unsigned(x, 5);
    if (v && *v == 0) {
      r->Error(x, "'storage.nats.replicas' must be 1 to 5");
      return std::nullopt;
    }
    return v;
  });
  Assign(f, "prefix", &nats->prefix, [r](const Field& x) -> std::optional<std::string> {
    auto v = r->Scalar(x);
    if (!v) return v;
    const bool ok = !v->empty() && v->size() <= 32 && std::all_of(v->begin(), v->end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    });
    if (!ok) {
      r->Error(x, "'storage.nats.prefix' must be 1 to 32 characters from A-Z a-z 0-9 _ -, got " +
                      Quote(*v));
      return std::nullopt;
    }
    return v;
  });
  if (const Field* x = Get(f, "node")) {
    // A copy: `f` and the fields in it end with this function.
    *node_field = *x;
    *node = r->Id(*x);
  }
  Assign(f, "timeout", &nats->timeout, [r](const Field& x) {
    auto v = r->Duration(x);
    if (v && (v->count() < 10 || v->count() > 60000)) {
      r->Error(x, "'storage.nats.timeout' must be between 10ms and 60s");
      return std::optional<std::chrono::milliseconds>();
    }
    return v;
  });
  Assign(f, "recheck", &nats->recheck, [r](const Field& x) {
    auto v = r->Duration(x);
    if (v && (v->count() < 10 || v->count() > 60000)) {
      r->Error(x, "'storage.nats.recheck' must be between 10ms and 60s");
      return std::optional<std::chrono::milliseconds>();
    }
    return v;
  });
}

void ParseStorage(const Field& field, DocumentReader* r, ServerConfig* c, const Field* node_name) {
  if (!r->ExpectMap(field)) return;
  std::map<std::string, Field> f;
  r->ReadMap(field.value, "storage.", {"engine", "nats"}, &f);
  Assign(f, "engine", &c->storage.engine, [r](const Field& x) {
    return r->OneOf(x, {"rocksdb", "nats"});
  });
  std::optional<std::string> node;
  std::optional<Field> node_field;
  const Field* nats = Get(f, "nats");
  const size_t errors_before = r->error_count();
  if (nats) ParseNats(*nats, r, &c->storage.nats, &node, &node_field);
  if (c->storage.engine == "nats" && c->storage.nats.servers.empty() &&
      r->error_count() == errors_before) {
    const Field* engine = Get(f, "engine");
    const Field& at = nats ? *nats : (engine ? *engine : field);
    r->Error(at,
             "'storage.engine: nats' needs 'storage.nats.servers' (at least one "
             "nats://host:port)");
  }
  if (node && node_field) {
    if (node_name && c->node_name != *node) {
      r->Error(*node_field, "'storage.nats.node' (" + Quote(*node) +
                                ") differs from 'node_name' (" + Quote(c->node_name) +
                                "); give one of them");
    } else {
      c->node_name = *node;
    }
  }
}

bool ParseServerDocument(const YAML::Node& root, DocumentReader* r, ServerConfig* out) {
  std::map<std::string, Field> f;
  r->ReadMap(root, "",
             {"listen", "admin_listen", "data_dir", "events_dir", "threads", "cache_size",
              "sendfile_cache", "sync_writes", "limits", "log", "admin_token", "admin_token_file",
              "admin_token_env", "node_name", "cors", "storage"},
             &f);
  ServerConfig c;
  c.node_name = DefaultNodeName();
  Assign(f, "node_name", &c.node_name, [r](const Field& x) { return r->Id(x); });
  if (const Field* x = Get(f, "cors")) ParseCors(*x, r, &c.cors);
  Assign(f, "listen", &c.listen, [r](const Field& x) { return r->Address(x); });
  const Field* admin = Get(f, "admin_listen");
  bool admin_ok = false;
  if (admin) {
    if (auto v = r->Address(*admin)) {
      c.admin_listen = *v;
      admin_ok = true;
    }
  }
  Assign(f, "data_dir", &c.data_dir, [r](const Field& x) { return r->Path(x); });
  Assign(f, "events_dir", &c.events_dir, [r](const Field& x) { return r->Path(x); });
  Assign(f, "threads", &c.threads, [r](const Field& x) { return r->Unsigned(x, 1024); });
  Assign(f, "cache_size", &c.cache_size, [r](const Field& x) { return r->Size(x); });
  Assign(f, "sendfile_cache", &c.sendfile_cache, [r](const Field& x) { return r->Size(x); });
  Assign(f, "sync_writes", &c.sync_writes, [r](const Field& x) { return r->Bool(x); });
  if (const Field* x = Get(f, "limits")) ParseLimits(*x, r, &c.limits);
  if (const Field* x = Get(f, "log")) ParseLog(*x, r, &c.log);
  if (const Field* x = Get(f, "storage")) ParseStorage(*x, r, &c, Get(f, "node_name"));
  bool has_admin_token = false;
  if (auto token = r->Secret(f, "admin_token", &has_admin_token)) c.admin_token = *token;

  if (admin_ok && c.admin_listen.port != 0 && c.admin_listen.port == c.listen.port &&
      (c.admin_listen.host == c.listen.host || IsWildcard(c.admin_listen.host) ||
       IsWildcard(c.listen.host))) {
    r->Error(*admin,
             "'admin_listen' must not use the same port as 'listen' (" + c.listen.ToString() + ")");
  }
  if (r->error_count() > 0) return false;
  *out = std::move(c);
  return true;
}

// Visible ASCII without spaces: anything else cannot travel in an
// Authorization header unescaped.
void ParsePipelines(const Field& field, DocumentReader* r, std::vector<PipelineConfig>* out) {
  if (!field.value.IsSequence()) {
    r->Error(field, "'pipelines' must be a list of {id, token} maps, got " +
                        std::string(TypeName(field.value)));
    return;
  }
  if (field.value.size() == 0) {
    r->Error(field, "'pipelines' must list at least one pipeline");
    return;
  }
  std::map<std::string, Position> ids;
  std::map<std::string, std::string> tokens;  // token -> pipeline id
  const YAML::Node* first_tokenless = nullptr;
  const YAML::Node* first_tokened = nullptr;
  std::vector<YAML::Node> items(field.value.begin(), field.value.end());
  for (size_t i = 0; i < items.size(); ++i) {
    const YAML::Node& item = items[i];
    const std::string name = "pipelines[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
      r->Error(item, Quote(name) + " must be a map {id: ..., token: ...}, got " + TypeName(item));
      continue;
    }
    std::map<std::string, Field> f;
    r->ReadMap(item, name + ".", {"id", "token", "token_file", "token_env"}, &f);
    PipelineConfig p;
    const Field* id_field = Get(f, "id");
    if (!id_field) {
      r->Error(item, Quote(name) + " has no 'id'");
    } else if (auto id = r->Id(*id_field)) {
      auto [it, inserted] = ids.try_emplace(*id, ToPosition(id_field->value.Mark()));
      if (!inserted) {
        r->Error(*id_field, "duplicate pipeline id " + Quote(*id) + " (first listed at line " +
                                std::to_string(it->second.line) + ")");
      }
      p.id = *id;
    }
    bool has_token = false;
    if (auto token = r->Secret(f, "token", &has_token)) {
      const Field* token_field = Get(f, "token");
      if (!token_field) token_field = Get(f, "token_file");
      if (!token_field) token_field = Get(f, "token_env");
      auto [it, inserted] = tokens.try_emplace(*token, p.id);
      if (!inserted) {
        r->Error(*token_field, Quote(token_field->name) + " repeats the token of pipeline " +
                                   Quote(it->second) + ": every pipeline needs its own token");
      }
      p.token = *token;
    }
    if (has_token) {
      if (!first_tokened) first_tokened = &items[i];
    } else if (!first_tokenless) {
      first_tokenless = &items[i];
    }
    out->push_back(std::move(p));
  }
  if (first_tokenless && first_tokened) {
    r->Error(*first_tokenless,
             "this pipeline has no token but another pipeline of the event has one; it could "
             "never authenticate (give every pipeline a token, or none)");
  }
}

// Parses one event document. `id_position` receives the position of the id value.
bool ParseEventDocument(const YAML::Node& root, DocumentReader* r, EventConfig* out,
                        Position* id_position) {
  std::map<std::string, Field> f;
  r->ReadMap(root, "",
             {"id", "availability_start_time", "start_number", "segment_duration", "dvr_window",
              "media_template", "init_template", "pipelines", "hold", "preferred_grace",
              "ingest_ahead", "cache_control", "low_latency"},
             &f);
  EventConfig c;
  for (const char* required : {"id", "segment_duration", "media_template", "pipelines"}) {
    if (!Get(f, required)) r->Error(root, "missing required key " + Quote(required));
  }
  if (const Field* x = Get(f, "id")) {
    if (auto id = r->Id(*x)) {
      if (*id == "admin" || *id == ".well-known") {
        r->Error(*x, "'id' must not be '" + *id + "' (reserved)");
      } else {
        c.id = *id;
        if (id_position) *id_position = ToPosition(x->value.Mark());
      }
    }
  }
  Assign(f, "availability_start_time", &c.availability_start_time,
         [r](const Field& x) { return r->Timestamp(x); });
  Assign(f, "start_number", &c.start_number,
         [r](const Field& x) { return r->Unsigned(x, kMaxInt64); });
  bool duration_ok = false;
  if (const Field* x = Get(f, "segment_duration")) {
    if (auto d = r->Duration(*x)) {
      if (d->count() == 0) {
        r->Error(*x, "'segment_duration' must be greater than 0");
      } else {
        c.segment_duration = *d;
        duration_ok = true;
      }
    }
  }
  const Field* dvr = Get(f, "dvr_window");
  bool dvr_ok = !dvr;
  if (dvr) {
    if (auto d = r->Duration(*dvr)) {
      c.dvr_window = *d;
      dvr_ok = true;
    }
  }
  if (duration_ok && dvr_ok && c.dvr_window < c.segment_duration) {
    if (dvr) {
      r->Error(*dvr, "'dvr_window' (" + FormatDuration(c.dvr_window) +
                         ") must be at least 'segment_duration' (" +
                         FormatDuration(c.segment_duration) + ")");
    } else {
      r->Error(*Get(f, "segment_duration"),
               "'segment_duration' is longer than the default 'dvr_window' (" +
                   FormatDuration(c.dvr_window) + "); set 'dvr_window'");
    }
  }
  if (const Field* x = Get(f, "media_template")) {
    if (auto t = r->Template(*x)) {
      if (!t->has_number()) {
        r->Error(*x,
                 "'media_template' must contain $Number$ (e.g. \"$RepresentationID$/"
                 "$Number$.m4s\")");
      } else {
        c.media_template = std::move(*t);
      }
    }
  }
  if (const Field* x = Get(f, "init_template")) {
    if (auto t = r->Template(*x)) {
      if (t->has_number()) {
        r->Error(*x, "'init_template' must not contain $Number$");
      } else {
        c.init_template = std::move(*t);
      }
    }
  }
  if (const Field* x = Get(f, "pipelines")) ParsePipelines(*x, r, &c.pipelines);
  if (const Field* x = Get(f, "hold")) {
    if (r->ExpectMap(*x)) {
      std::map<std::string, Field> h;
      r->ReadMap(x->value, "hold.", {"max_wait"}, &h);
      Assign(h, "max_wait", &c.hold_max_wait, [r](const Field& y) { return r->Duration(y); });
    }
  }
  Assign(f, "preferred_grace", &c.preferred_grace, [r](const Field& x) { return r->Duration(x); });
  Assign(f, "ingest_ahead", &c.ingest_ahead,
         [r](const Field& x) { return r->Unsigned(x, kMaxUint32); });
  if (const Field* x = Get(f, "cache_control")) {
    if (r->ExpectMap(*x)) {
      std::map<std::string, Field> cc;
      r->ReadMap(x->value, "cache_control.", {"manifest_max_age"}, &cc);
      Assign(cc, "manifest_max_age", &c.manifest_max_age,
             [r](const Field& y) { return r->Duration(y); });
    }
  }
  Assign(f, "low_latency", &c.low_latency, [r](const Field& x) { return r->Bool(x); });
  if (r->error_count() > 0) return false;
  c.source_file = r->file();
  *out = std::move(c);
  return true;
}

bool ParseEventText(const std::string& text, DocumentReader* r, EventConfig* out,
                    Position* id_position) {
  try {
    auto root = LoadDocument(text, r);
    if (!root) return false;
    return ParseEventDocument(*root, r, out, id_position);
  } catch (const YAML::Exception& e) {  // defensive: node access should not throw here
    r->Error(ToPosition(e.mark), "YAML error: " + e.msg);
    return false;
  }
}

bool IsEventFile(const fs::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  if (name.empty() || name[0] == '.') return false;
  const std::string ext = entry.path().extension().string();
  if (ext != ".yaml" && ext != ".yml") return false;
  std::error_code ec;
  return entry.is_regular_file(ec);
}

}  // namespace

bool LoadServerConfig(const fs::path& file, ServerConfig* out, std::vector<ConfigError>* errors) {
  DocumentReader r(file.string(), errors);
  std::string text;
  if (!ReadFile(file, &text, &r)) return false;
  try {
    auto root = LoadDocument(text, &r);
    if (!root) return false;
    ServerConfig c;
    if (!ParseServerDocument(*root, &r, &c)) return false;
    c.source_file = file;
    *out = std::move(c);
    return true;
  } catch (const YAML::Exception& e) {  // defensive: node access should not throw here
    r.Error(ToPosition(e.mark), "YAML error: " + e.msg);
    return false;
  }
}

bool ParseEventConfig(std::string_view yaml_text, const std::string& file, EventConfig* out,
                      std::vector<ConfigError>* errors) {
  DocumentReader r(file, errors);
  return ParseEventText(std::string(yaml_text), &r, out, nullptr);
}

LoadedEvents LoadEventDirectory(const fs::path& dir) {
  LoadedEvents result;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    const bool exists = fs::exists(dir, ec);
    result.errors.push_back(
        {dir.string(), 0, 0,
         exists ? "events_dir is not a directory" : "events_dir does not exist"});
    return result;
  }
  std::vector<fs::path> files;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (IsEventFile(*it)) files.push_back(it->path());
  }
  if (ec) {
    result.errors.push_back({dir.string(), 0, 0, "cannot list events_dir: " + ec.message()});
    return result;
  }
  std::sort(files.begin(), files.end());

  struct Origin {
    std::string file;
    Position position;
  };
  std::map<std::string, Origin> seen;
  for (const fs::path& file : files) {
    DocumentReader r(file.string(), &result.errors);
    std::string text;
    if (!ReadFile(file, &text, &r)) continue;
    EventConfig event;
    Position id_position;
    if (!ParseEventText(text, &r, &event, &id_position)) continue;
    event.source_file = file;
    auto [prev, inserted] = seen.try_emplace(event.id, Origin{file.string(), id_position});
    if (!inserted) {
      r.Error(id_position, "duplicate event id " + Quote(event.id) + ": also defined in " +
                               prev->second.file + ":" +
                               std::to_string(prev->second.position.line) + ":" +
                               std::to_string(prev->second.position.column));
      continue;
    }
    result.events.push_back(std::move(event));
  }
  std::sort(result.events.begin(), result.events.end(),
            [](const EventConfig& a, const EventConfig& b) { return a.id < b.id; });
  return result;
}

std::shared_ptr<const Snapshot> LoadSnapshot(const fs::path& server_file,
                                             std::vector<ConfigError>* errors) {
  auto snapshot = std::make_shared<Snapshot>();
  if (!LoadServerConfig(server_file, &snapshot->server, errors)) return nullptr;
  LoadedEvents loaded = LoadEventDirectory(snapshot->server.events_dir);
  if (!loaded.errors.empty()) {
    errors->insert(errors->end(), loaded.errors.begin(), loaded.errors.end());
    return nullptr;
  }
  snapshot->events = std::move(loaded.events);
  return snapshot;
}

}  // namespace liveorigin::config
