// DeliveryHeaders: the interoperability headers of delivery answers (SPEC
// §11). CMSD-Static and Repr-Digest depend on the candidate, not on the
// request: they are built once per candidate (CMSD-Static again only when the
// event's configuration changes) and kept in a bounded cache keyed by the
// candidate's BodyCache key. CMSD-Dynamic is per response: its fixed part is
// built once, at construction.
//
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "liveorigin/common/thread_annotations.h"
#include "liveorigin/config/config.h"
#include "liveorigin/core/http_message.h"
#include "liveorigin/storage/candidate_record.h"

namespace liveorigin::core {

class DeliveryHeaders {
 public:
  // `node`: this node's name (CMSD `n`). `max_entries`: candidates whose
  // headers are kept (about 300 bytes each).
  explicit DeliveryHeaders(std::string node, size_t max_entries = 16384);

  // For a GET/HEAD answer serving `record` (bytes `body`) of `event`: adds
  // CMSD-Static, asks for CMSD-Dynamic (Response::cmsd_dynamic), and adds
  // Repr-Digest when the request's Want-Repr-Digest asks for sha-256.
  // `cache_key` identifies the candidate's bytes (BodyCacheKey).
  void Apply(const Request& request, const std::shared_ptr<const config::EventConfig>& event,
             const storage::CandidateRecord& record, const std::string& cache_key,
             const std::string& body, Response* response);

  // For a GET answer that follows an upload still arriving (SPEC §9):
  // CMSD-Static as CmsdStaticForUpload says, and CMSD-Dynamic. Not cached:
  // one per followed GET.
  void ApplyFollowing(const config::EventConfig& event, const storage::CandidateId& id,
                      storage::ObjectKind kind, int64_t first_byte_unix_ms,
                      Response* response) const;

  // Just before the head is written: CMSD-Dynamic with `rd`, the time since
  // the request head arrived (holds included), and `du` when `duress`.
  void ApplyDynamic(const Request& request, bool duress, Response* response) const;

  const std::string& node() const { return node_; }
  // SHA-256 computations made for Repr-Digest so far.
  uint64_t digests_computed() const { return digests_computed_.load(); }

 private:
  struct Entry {
    std::weak_ptr<const config::EventConfig> config;  // what cmsd_static was built for
    std::string cmsd_static;
    Mutex digest_mu;
    std::string repr_digest GUARDED_BY(digest_mu);  // "" until first asked for
  };
  struct Shard {
    Mutex mu;
    std::unordered_map<std::string, std::shared_ptr<Entry>> entries GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;

  std::shared_ptr<Entry> EntryFor(const std::shared_ptr<const config::EventConfig>& event,
                                  const storage::CandidateRecord& record,
                                  const std::string& cache_key);

  const std::string node_;
  const std::string dynamic_prefix_;
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> digests_computed_{0};
};

}  // namespace liveorigin::core
