#include "liveorigin/core/request_target.h"

namespace liveorigin::core {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<ParsedTarget> ParseRequestTarget(std::string_view target) {
  if (target.size() > kMaxTargetLength) {
    return Status::InvalidArgument("request target is longer than 1024 bytes");
  }
  if (target.empty() || target.front() != '/') {
    return Status::InvalidArgument("request target must be an absolute path starting with '/'");
  }
  const size_t q = target.find_first_of("?#");
  if (q != std::string_view::npos) target = target.substr(0, q);

  std::string decoded;
  decoded.reserve(target.size());
  for (size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size()) {
        return Status::InvalidArgument("truncated percent-escape in request target");
      }
      const int hi = HexValue(target[i + 1]), lo = HexValue(target[i + 2]);
      if (hi < 0 || lo < 0)
        return Status::InvalidArgument("invalid percent-escape in request target");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u == 0) return Status::InvalidArgument("request target contains a NUL byte");
    if (u < 0x20 || u == 0x7f) {
      return Status::InvalidArgument("request target contains a control character");
    }
    if (c == '\\') return Status::InvalidArgument("request target contains a backslash");
    decoded.push_back(c);
  }

  // Check every segment of "/a/b/c".
  size_t start = 1;
  while (start <= decoded.size()) {
    size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    const std::string_view seg(decoded.data() + start, end - start);
    const bool last = end == decoded.size();
    if (seg.empty() && !(last && start == 1)) {
      return Status::InvalidArgument("request target has an empty path segment");
    }
    if (seg == "." || seg == "..") {
      return Status::InvalidArgument("request target contains a '.' or '..' segment");
    }
    start = end + 1;
  }

  ParsedTarget out;
  const size_t slash = decoded.find('/', 1);
  if (slash == std::string::npos) {
    out.event = decoded.substr(1);
  } else {
    out.event = decoded.substr(1, slash - 1);
    out.path = decoded.substr(slash + 1);
  }
  return out;
}

}  // namespace liveorigin::core
