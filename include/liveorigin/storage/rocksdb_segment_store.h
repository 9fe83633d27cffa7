// The production SegmentStore on RocksDB (SPEC §7).
//
// Two column families: "default" holds candidate metadata and sticky
// selections (small values, scanned at start-up); "bodies" holds object bytes
// with BlobDB enabled so multi-megabyte segments do not churn the LSM tree.
// A candidate's metadata and body are written in one WriteBatch. RocksDB
// headers stay inside this module. Thread-safe.
#pragma once

#include <filesystem>
#include <memory>

#include "liveorigin/storage/segment_store.h"

namespace liveorigin::storage {

struct RocksDbOptions {
  std::filesystem::path path;
  bool sync_writes = false;  // fsync the WAL before a write returns
  // Writes are refused with NoSpace while the filesystem holding `path` has
  // less free space than this plus the value: RocksDB (as packaged) aborts on
  // an out-of-space error inside its log writer, so it must never meet one.
  uint64_t min_free_bytes = 256ull << 20;
  // Table and blob files RocksDB keeps open at once (its table cache); files
  // outside the set are reopened when read. Bounds the descriptors storage
  // holds, so the server can reserve them. -1: every file stays open.
  int max_open_files = 256;
};

class RocksDbSegmentStore final : public SegmentStore {
 public:
  // RocksDB's block cache, shared by the metadata and body families (bodies
  // themselves live in blob files and are cached by BodyCache, not here).
  static constexpr size_t kBlockCacheBytes = size_t{16} << 20;
  // The write-ahead log is kept below this many bytes: past it, RocksDB
  // flushes the metadata family, whose small memtable otherwise pins every
  // log file written since its last flush. It also bounds what a restart
  // after a crash replays.
  static constexpr uint64_t kMaxWalBytes = uint64_t{256} << 20;

  // Creates the directory and database if missing. Errors name the path.
  static Result<std::unique_ptr<RocksDbSegmentStore>> Open(const RocksDbOptions& options);
  ~RocksDbSegmentStore() override;

  Status PutCandidate(const CandidateRecord& record, std::string_view body) override;
  Result<Body> GetBody(const CandidateId& id) override;
  Result<CandidateRecord> GetCandidate(const CandidateId& id) override;
  Status ForEachCandidate(const std::function<void(CandidateRecord&&)>& fn) override;
  Status PutSelection(const SelectionRecord& selection) override;
  // One node: the first selection stored for a segment holds.
  Result<SelectionRecord> ProposeSelection(const SelectionRecord& proposed) override;
  Status ForEachSelection(const std::function<void(SelectionRecord&&)>& fn) override;
  Status ApplyOperatorChange(const OperatorChange& change) override;
  Status ForEachPipelineControl(const std::function<void(PipelineControlRecord&&)>& fn) override;
  Status ForEachForcedSelection(const std::function<void(ForcedSelectionRecord&&)>& fn) override;
  Status ForEachAudit(const std::function<void(AuditRecord&&)>& fn) override;
  Status DeleteSegmentsBefore(std::string_view event, std::string_view rendition,
                              uint64_t first_kept) override;
  Status DeleteObject(std::string_view event, std::string_view path) override;
  Status Health() const override;

  // Flushes memtables and the WAL.
  Status Flush();
  // Writes and fsyncs the WAL (clean shutdown: everything acknowledged is on
  // disk; the memtables are rebuilt from the WAL at the next start).
  Status SyncWal();

  // Whether every write fsyncs the WAL before returning: the option the writes
  // actually use (reported at start-up, so the configuration can be checked).
  bool sync_writes() const;

 private:
  struct Impl;
  explicit RocksDbSegmentStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace liveorigin::storage
