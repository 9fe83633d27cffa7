#include "liveorigin/core/content_digest.h"

#include <openssl/evp.h>

#include "liveorigin/common/bytes.h"
#include "liveorigin/common/structured_fields.h"

namespace liveorigin::core {
namespace {

const EVP_MD* Md(DigestAlgorithm a) {
  return a == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_sha512();
}

size_t DigestLength(DigestAlgorithm a) { return a == DigestAlgorithm::kSha256 ? 32 : 64; }

std::optional<DigestAlgorithm> AlgorithmNamed(std::string_view key) {
  if (key == "sha-256") return DigestAlgorithm::kSha256;
  if (key == "sha-512") return DigestAlgorithm::kSha512;
  return std::nullopt;
}

}  // namespace

std::string_view DigestAlgorithmName(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kSha256 ? "sha-256" : "sha-512";
}

Result<std::vector<ExpectedDigest>> ParseDigestField(std::string_view value) {
  auto dict = sf::ParseDictionary(value);
  if (!dict.ok())
    return Status::InvalidArgument("not a valid digest field: " + dict.status().message());
  std::vector<ExpectedDigest> out;
  for (const auto& [key, member] : *dict) {
    const auto algorithm = AlgorithmNamed(key);
    if (!algorithm) continue;  // RFC 9530 §2: ignore algorithms not understood
    const auto* item = std::get_if<sf::Item>(&member);
    const auto* bytes = item ? std::get_if<sf::ByteSequence>(&item->value) : nullptr;
    if (!bytes) {
      return Status::InvalidArgument(std::string(key) +
                                     " must be a byte sequence, e.g. sha-256=:<base64>:");
    }
    if (bytes->bytes.size() != DigestLength(*algorithm)) {
      return Status::InvalidArgument(std::string(key) + " must hold " +
                                     std::to_string(DigestLength(*algorithm)) + " bytes, got " +
                                     std::to_string(bytes->bytes.size()));
    }
    out.push_back(ExpectedDigest{*algorithm, bytes->bytes});
  }
  return out;
}

bool WantsSha256(std::string_view want) {
  auto dict = sf::ParseDictionary(want);
  if (!dict.ok()) return false;
  for (const auto& [key, member] : *dict) {
    if (key != "sha-256") continue;
    const auto* item = std::get_if<sf::Item>(&member);
    const auto* preference = item ? std::get_if<int64_t>(&item->value) : nullptr;
    return preference && *preference >= 1 && *preference <= 10;
  }
  return false;
}

std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string FormatSha256Field(std::string_view raw_sha256) {
  return "sha-256=:" + Base64Encode(raw_sha256) + ":";
}

struct DigestVerifier::Hasher {
  ExpectedDigest expected;
  EVP_MD_CTX* ctx = nullptr;
  ~Hasher() { EVP_MD_CTX_free(ctx); }
};

DigestVerifier::DigestVerifier(std::vector<ExpectedDigest> expected) {
  for (auto& e : expected) {
    // One hash per algorithm, even when a field names it twice.
    bool seen = false;
    for (const auto& h : hashers_) seen = seen || h->expected.algorithm == e.algorithm;
    if (seen) continue;
    auto h = std::make_unique<Hasher>();
    h->ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(h->ctx, Md(e.algorithm), nullptr);
    h->expected = std::move(e);
    hashers_.push_back(std::move(h));
  }
}

DigestVerifier::~DigestVerifier() = default;

void DigestVerifier::Update(std::string_view bytes) {
  for (auto& h : hashers_) EVP_DigestUpdate(h->ctx, bytes.data(), bytes.size());
}

Status DigestVerifier::Finish() {
  Status result;
  for (auto& h : hashers_) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->ctx, md, &len);
    const std::string got(reinterpret_cast<const char*>(md), len);
    if (h->expected.algorithm == DigestAlgorithm::kSha256) sha256_ = got;
    if (got != h->expected.value && result.ok()) {
      result = Status::InvalidArgument(
          "the body's " + std::string(DigestAlgorithmName(h->expected.algorithm)) +
          " digest is :" + Base64Encode(got) +
          ": but Content-Digest says :" + Base64Encode(h->expected.value) + ":");
    }
  }
  return result;
}

}  // namespace liveorigin::core
