// A SegmentStore on a NATS JetStream cluster, shared by several origin nodes
// (SPEC §10).
//
// Layout under `prefix` (default "liveorigin"):
//   stream  <prefix>_bodies   subjects <prefix>.body.<key>: candidate bytes, in
//                             parts no larger than the server's max_payload
//   bucket  <prefix>_meta     KV: candidate records (with the stream sequences
//                             of their parts), sticky selections, operator
//                             controls and audit entries
//   subject <prefix>.put      core NATS: a node that stored a candidate
//                             announces its record to the others
// Both the stream and the bucket are created with `replicas` replicas when
// missing. A write returns OK only after JetStream acknowledged it (with R3,
// after a quorum stored it). Every call has the configured timeout and maps
// failures to a Status (Unavailable for timeouts and lost connections, NoSpace
// for a stream over its limits). Writes are sent again within that timeout
// while a stream has no leader to acknowledge them (an election after a server
// was lost), each with one Nats-Msg-Id so that JetStream stores it once.
// libnats stays inside this module.
//
// Thread-safe. Calls block for up to `timeout` (a few for a multi-part body):
// call them from worker threads, never from network threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "liveorigin/storage/segment_store.h"

namespace liveorigin::storage {

struct NatsOptions {
  std::vector<std::string> servers;   // nats://host:port, at least one
  int replicas = 3;                   // of the stream and the bucket, 1..5
  std::string prefix = "liveorigin";  // [A-Za-z0-9_-]{1,32}
  std::string node = "liveorigin";    // this node's name (connection name, logs)
  // Each request to NATS (publish acknowledgement, KV read or write, connect).
  std::chrono::milliseconds timeout{2000};
  // Announce stored candidates to the other nodes (on <prefix>.put). Off only
  // for tools and tests that must write without telling anyone.
  bool announce = true;
};

class NatsSegmentStore final : public SegmentStore {
 public:
  // Connects, checks that JetStream answers, and creates the stream and the
  // bucket when missing. Errors say which server and what failed.
  static Result<std::unique_ptr<NatsSegmentStore>> Open(const NatsOptions& options);
  ~NatsSegmentStore() override;

  Status PutCandidate(const CandidateRecord& record, std::string_view body) override;
  Result<Body> GetBody(const CandidateId& id) override;
  Result<CandidateRecord> GetCandidate(const CandidateId& id) override;
  Status ForEachCandidate(const std::function<void(CandidateRecord&&)>& fn) override;
  Status PutSelection(const SelectionRecord& selection) override;
  Result<SelectionRecord> ProposeSelection(const SelectionRecord& proposed) override;
  Status ForEachSelection(const std::function<void(SelectionRecord&&)>& fn) override;
  Status ApplyOperatorChange(const OperatorChange& change) override;
  Status ForEachPipelineControl(const std::function<void(PipelineControlRecord&&)>& fn) override;
  Status ForEachForcedSelection(const std::function<void(ForcedSelectionRecord&&)>& fn) override;
  Status ForEachAudit(const std::function<void(AuditRecord&&)>& fn) override;
  Status DeleteSegmentsBefore(std::string_view event, std::string_view rendition,
                              uint64_t first_kept) override;
  Status DeleteObject(std::string_view event, std::string_view path) override;
  // Unavailable while no NATS server is connected, and from a failed write
  // (node reports included: a node writes one every few seconds) until a
  // probe write succeeds, tried at most once a second. So a JetStream that
  // lost its quorum is reported, also when reads still work.
  Status Health() const override;
  bool Shared() const override { return true; }
  Status PutNodeReport(std::string_view node, std::string_view report) override;
  Status ForEachNodeReport(const std::function<void(std::string&&)>& fn) override;
  void SetRemoteCandidateListener(const RemoteCandidateListener& listener) override;

  // Largest part a body is split into (the server's max_payload less room
  // for the protocol). For tests and logs.
  size_t part_size() const;
  // Messages (body parts) the body stream holds now. For tests.
  Result<uint64_t> BodyMessages() const;
  // server_name of the NATS server leading the body stream (for tests that
  // kill it); empty when it has no leader.
  Result<std::string> BodyStreamLeader() const;

 private:
  struct Impl;
  explicit NatsSegmentStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace liveorigin::storage
