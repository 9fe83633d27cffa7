#include "liveorigin/core/upload_body.h"

#include <algorithm>

#include "liveorigin/core/http_message.h"

namespace liveorigin::core {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<ContentCoding> ParseContentEncoding(std::optional<std::string_view> header) {
  if (!header) return ContentCoding::kIdentity;
  std::string_view rest = *header;
  int gzip = 0;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view coding = Trim(rest.substr(0, comma));
    if (EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip")) {
      ++gzip;
    } else if (!coding.empty() && !EqualsIgnoreCase(coding, "identity")) {
      return Status::InvalidArgument("Content-Encoding '" + std::string(coding) +
                                     "' is not supported; send identity or gzip");
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (gzip > 1) {
    return Status::InvalidArgument("Content-Encoding applies gzip more than once; send it once");
  }
  return gzip ? ContentCoding::kGzip : ContentCoding::kIdentity;
}

UploadBody::UploadBody(UploadBodyOptions options) : options_(std::move(options)) {
  if (!options_.digests.empty()) verifier_ = std::make_unique<DigestVerifier>(options_.digests);
  if (options_.coding == ContentCoding::kGzip) {
    gzip_ = std::make_unique<GzipDecoder>(options_.max_size);
  } else if (options_.reserve) {
    body_.reserve(std::min(options_.reserve, options_.max_size));
  }
}

bool UploadBody::Fail(Outcome outcome, std::string message) {
  if (verdict_.outcome == Outcome::kOk) {
    verdict_ = Verdict{outcome, std::move(message)};
    body_.clear();
    body_.shrink_to_fit();
  }
  return false;
}

bool UploadBody::Append(std::string_view bytes) {
  if (verdict_.outcome != Outcome::kOk) return false;
  received_ += bytes.size();
  if (verifier_) verifier_->Update(bytes);
  if (gzip_) {
    switch (gzip_->Write(bytes, &body_)) {
      case GzipDecoder::State::kOk:
        return true;
      case GzipDecoder::State::kTooLarge:
        return Fail(Outcome::kTooLarge, "the decoded body exceeds max_object_size (" +
                                            std::to_string(options_.max_size) + " bytes)");
      case GzipDecoder::State::kCorrupt:
        return Fail(Outcome::kBadEncoding, "the gzip body cannot be decoded: " + gzip_->error());
    }
  }
  if (body_.size() + bytes.size() > options_.max_size) {
    return Fail(Outcome::kTooLarge,
                "body exceeds max_object_size (" + std::to_string(options_.max_size) + " bytes)");
  }
  body_.append(bytes);
  return true;
}

UploadBody::Verdict UploadBody::Finish() {
  if (verdict_.outcome != Outcome::kOk) return verdict_;
  if (gzip_ && received_ > 0 && gzip_->Finish() != GzipDecoder::State::kOk) {
    Fail(Outcome::kBadEncoding, "the gzip body cannot be decoded: " + gzip_->error());
    return verdict_;
  }
  if (verifier_) {
    if (Status st = verifier_->Finish(); !st.ok()) {
      Fail(Outcome::kDigestMismatch, st.message());
      return verdict_;
    }
  }
  return verdict_;
}

std::string UploadBody::known_sha256() const {
  if (!verifier_ || gzip_ || verdict_.outcome != Outcome::kOk) return {};
  return verifier_->sha256();
}

}  // namespace liveorigin::core
