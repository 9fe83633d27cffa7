// FirstFragmentScan: finds, in a media segment that is still arriving, where
// its first `moof` ends, reading only top-level box headers (SPEC §9: an
// upload can be followed once its first moof is there). Incremental: each
// call resumes where the previous one stopped. Pure; one per upload.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace liveorigin::core {

class FirstFragmentScan {
 public:
  enum class Result {
    kNeedMore,   // no complete moof yet
    kFound,      // moof_end() is the end of the first moof
    kMalformed,  // the top-level boxes can never form a media segment
  };

  // `bytes` is everything received so far (it only grows between calls).
  Result Scan(std::string_view bytes);
  uint64_t moof_end() const { return moof_end_; }
  const std::string& error() const { return error_; }

 private:
  Result Fail(std::string message);

  uint64_t offset_ = 0;  // start of the next top-level box header
  uint64_t moof_end_ = 0;
  Result result_ = Result::kNeedMore;
  std::string error_;
};

}  // namespace liveorigin::core
