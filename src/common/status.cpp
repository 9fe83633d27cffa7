#include "liveorigin/common/status.h"

namespace liveorigin {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      name = "NotFound";
      break;
    case Code::kInvalidArgument:
      name = "InvalidArgument";
      break;
    case Code::kCorruption:
      name = "Corruption";
      break;
    case Code::kIOError:
      name = "IOError";
      break;
    case Code::kNoSpace:
      name = "NoSpace";
      break;
    case Code::kUnavailable:
      name = "Unavailable";
      break;
    case Code::kAlreadyExists:
      name = "AlreadyExists";
      break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace liveorigin
