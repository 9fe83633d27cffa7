#include "liveorigin/core/delivery_headers.h"

#include <algorithm>
#include <chrono>

#include "liveorigin/core/cmsd.h"
#include "liveorigin/core/content_digest.h"

namespace liveorigin::core {
namespace {

bool SameConfig(const std::weak_ptr<const config::EventConfig>& a,
                const std::shared_ptr<const config::EventConfig>& b) {
  return !a.owner_before(b) && !b.owner_before(a) && !a.expired();
}

}  // namespace

DeliveryHeaders::DeliveryHeaders(std::string node, size_t max_entries)
    : node_(std::move(node)),
      dynamic_prefix_(CmsdDynamicPrefix(node_)),
      max_per_shard_(std::max<size_t>(1, max_entries / kShards)) {}

std::shared_ptr<DeliveryHeaders::Entry> DeliveryHeaders::EntryFor(
    const std::shared_ptr<const config::EventConfig>& event, const storage::CandidateRecord& record,
    const std::string& cache_key) {
  Shard& shard = shards_[std::hash<std::string>()(cache_key) % kShards];
  MutexLock lock(shard.mu);
  auto it = shard.entries.find(cache_key);
  if (it != shard.entries.end() && SameConfig(it->second->config, event)) return it->second;
  auto entry = std::make_shared<Entry>();
  entry->config = event;
  entry->cmsd_static = SerializeCmsdStatic(CmsdStaticFor(record, *event, node_));
  if (it != shard.entries.end()) {
    // A reload changed the event: keep a digest already computed for these bytes.
    MutexLock digest_lock(it->second->digest_mu);
    MutexLock entry_lock(entry->digest_mu);  // not shared yet; taken for the analysis
    entry->repr_digest = it->second->repr_digest;
    it->second = entry;
    return entry;
  }
  // Bounded: a full shard starts over (rebuilding an entry is cheap).
  if (shard.entries.size() >= max_per_shard_) shard.entries.clear();
  shard.entries.emplace(cache_key, entry);
  return entry;
}

void DeliveryHeaders::Apply(const Request& request,
                            const std::shared_ptr<const config::EventConfig>& event,
                            const storage::CandidateRecord& record, const std::string& cache_key,
                            const std::string& body, Response* response) {
  const auto entry = EntryFor(event, record, cache_key);
  if (!entry->cmsd_static.empty()) {
    response->headers.emplace_back("CMSD-Static", entry->cmsd_static);
  }
  response->cmsd_dynamic = true;

  const auto want = request.Header("Want-Repr-Digest");
  if (!want || !WantsSha256(*want)) return;
  std::string value;
  if (!record.sha256.empty()) {
    value = FormatSha256Field(record.sha256);  // verified at ingest: no hashing
  } else {
    MutexLock lock(entry->digest_mu);
    if (entry->repr_digest.empty()) {
      entry->repr_digest = FormatSha256Field(Sha256(body));
      ++digests_computed_;
    }
    value = entry->repr_digest;
  }
  response->headers.emplace_back("Repr-Digest", std::move(value));
}

void DeliveryHeaders::ApplyFollowing(const config::EventConfig& event,
                                     const storage::CandidateId& id, storage::ObjectKind kind,
                                     int64_t first_byte_unix_ms, Response* response) const {
  std::string value =
      SerializeCmsdStatic(CmsdStaticForUpload(id, kind, event, node_, first_byte_unix_ms));
  if (!value.empty()) response->headers.emplace_back("CMSD-Static", std::move(value));
  response->cmsd_dynamic = true;
}

void DeliveryHeaders::ApplyDynamic(const Request& request, bool duress, Response* response) const {
  if (!response->cmsd_dynamic) return;
  int64_t rd = 0;
  if (request.received != std::chrono::steady_clock::time_point{}) {
    rd = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               request.received)
             .count();
  }
  response->headers.emplace_back("CMSD-Dynamic", SerializeCmsdDynamic(dynamic_prefix_, rd, duress));
}

}  // namespace liveorigin::core
