#include "liveorigin/storage/rocksdb_segment_store.h"
#include "liveorigin/common/thread_annotations.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <sys/statvfs.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "record_codec.h"
#include "storage_keys.h"

namespace liveorigin::storage {
namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kNoSpace) {
    return Status::NoSpace(std::move(msg));
  }
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  return Status::IOError(std::move(msg));
}

// The smallest key greater than every key starting with `prefix`.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto& c = prefix.back();
    if (static_cast<unsigned char>(c) != 0xFF) {
      c = static_cast<char>(static_cast<unsigned char>(c) + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;  // empty: no upper bound
}

}  // namespace

struct RocksDbSegmentStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* meta = nullptr;    // "default"; destroyed in ~Impl
  rocksdb::ColumnFamilyHandle* bodies = nullptr;  // "bodies"; destroyed in ~Impl
  rocksdb::WriteOptions write_options;
  std::string path;
  uint64_t min_free_bytes = 0;
  // Free bytes on the data filesystem, refreshed at most every 20 ms; writes
  // in between subtract what they add.
  std::atomic<int64_t> free_estimate{INT64_MAX};
  std::atomic<int64_t> free_checked_ns{0};
  mutable Mutex health_mu;
  Status last_write_error GUARDED_BY(health_mu);
  // Makes ProposeSelection's read-then-write one step.
  Mutex propose_mu;

  Status NoteWrite(const rocksdb::Status& s, std::string_view what) {
    Status st = FromRocks(s, what);
    MutexLock lock(health_mu);
    last_write_error = st;
    return st;
  }

  // NoSpace when writing `bytes` would leave less than min_free_bytes free.
  Status CheckSpace(uint64_t bytes) {
    if (min_free_bytes == 0) return Status::Ok();
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    if (now - free_checked_ns.load() > 20'000'000) {
      struct statvfs fs {};
      if (::statvfs(path.c_str(), &fs) == 0) {
        free_estimate.store(static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize));
      }
      free_checked_ns.store(now);
    }
    const int64_t free = free_estimate.load();
    if (free < static_cast<int64_t>(min_free_bytes + bytes)) {
      Status st = Status::NoSpace("data_dir " + path + " has " + std::to_string(free >> 20) +
                                  " MiB free, below limits.min_free_disk (" +
                                  std::to_string(min_free_bytes >> 20) + " MiB) plus the object");
      MutexLock lock(health_mu);
      last_write_error = st;
      return st;
    }
    free_estimate.fetch_sub(static_cast<int64_t>(bytes) * 2);  // WAL + memtable flush
    return Status::Ok();
  }

  ~Impl() {
    if (db) {
      if (meta) db->DestroyColumnFamilyHandle(meta).PermitUncheckedError();
      if (bodies) db->DestroyColumnFamilyHandle(bodies).PermitUncheckedError();
      db->Close().PermitUncheckedError();
    }
  }
};

RocksDbSegmentStore::RocksDbSegmentStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksDbSegmentStore::~RocksDbSegmentStore() = default;

Result<std::unique_ptr<RocksDbSegmentStore>> RocksDbSegmentStore::Open(
    const RocksDbOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return Status::IOError("cannot create data directory " + options.path.string() + ": " +
                           ec.message());
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Two flushes may run at once, and one compaction. With one flush thread
  // (what two background jobs give) a flush that waits on the disk let five
  // body memtables queue up under a 1 MB PUT load, and RocksDB then slowed
  // every write (write_delay_time 50-60 ms in its perf context).
  db_options.max_background_flushes = 2;
  db_options.max_background_compactions = 1;
  // Without a bound the log grew to about four times the memtables' size
  // before RocksDB forced a flush of both families at once, the other cause
  // of those slowed writes (and more to replay after a crash).
  db_options.max_total_wal_size = kMaxWalBytes;
  // No preallocation: RocksDB reserves a new log's whole expected size (1.1
  // memtables, some 35 MiB) with fallocate on its first write, and that call
  // took 13-18 ms here, inside the PUT that opened the log (perf context:
  // allocate_nanos), once per memtable: the 1 MB PUT p99 went 15-110 ms -> 7 ms.
  // Files are written sequentially and once, so the filesystem lays them out
  // well without it.
  db_options.allow_fallocate = false;
  db_options.keep_log_file_num = 5;
  db_options.max_open_files = options.max_open_files;

  // One block cache for both families, of a fixed size. Metadata records are
  // about 300 bytes, so 16 MiB of blocks hold some 50 000 of them: more than
  // the live DVR windows of 100 events of 12 streams each, whose newest
  // records are in the memtables anyway. (OptimizeForPointLookup's own cache
  // was 64 MiB; under the soak it filled for 40 minutes and more, the larger
  // part of the daemon's memory growth after its first 10 minutes.)
  const std::shared_ptr<rocksdb::Cache> block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);

  rocksdb::ColumnFamilyOptions meta_options;
  meta_options.OptimizeForPointLookup(kBlockCacheBytes >> 20);
  {
    rocksdb::BlockBasedTableOptions table;
    if (const auto* tuned =
            meta_options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>()) {
      table = *tuned;  // the point-lookup tuning (hash index, bloom filter), with the shared cache
    }
    table.block_cache = block_cache;
    meta_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  }

  rocksdb::ColumnFamilyOptions body_options;
  body_options.enable_blob_files = true;
  body_options.min_blob_size = 4096;
  // No blob GC: segments die whole through retention's range deletes, and a
  // blob file is dropped once no SST references it. GC only rewrote data that
  // was about to be deleted (about 30% of the CPU under a 600 PUT/s soak).
  body_options.enable_blob_garbage_collection = false;
  // Bodies arrive at up to a few hundred MB/s. With only two memtables a
  // burst fills the second before the first is flushed, and RocksDB stops all
  // writes until the flush ends (hundreds of ms of PUT latency). Six smaller
  // memtables absorb the burst while a flush runs; at most 6 x 32 MiB of
  // bodies wait in memory for their flush.
  body_options.write_buffer_size = 32 << 20;
  body_options.max_write_buffer_number = 6;
  {
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = block_cache;
    body_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, meta_options}, {"bodies", body_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path.string(), families, &handles, &raw);
  if (!s.ok()) return FromRocks(s, "cannot open RocksDB at " + options.path.string());

  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  impl->meta = handles[0];
  impl->bodies = handles[1];
  impl->write_options.sync = options.sync_writes;
  impl->path = options.path.string();
  impl->min_free_bytes = options.min_free_bytes;
  return std::unique_ptr<RocksDbSegmentStore>(new RocksDbSegmentStore(std::move(impl)));
}

Status RocksDbSegmentStore::PutCandidate(const CandidateRecord& record, std::string_view body) {
  if (Status st = impl_->CheckSpace(body.size() + 4096); !st.ok()) return st;
  const std::string key = keys::CandidateKey(record.id);
  rocksdb::WriteBatch batch;
  batch.Put(impl_->bodies, key, rocksdb::Slice(body.data(), body.size()));
  batch.Put(impl_->meta, key, EncodeCandidate(record));
  return impl_->NoteWrite(impl_->db->Write(impl_->write_options, &batch), "write candidate");
}

Result<Body> RocksDbSegmentStore::GetBody(const CandidateId& id) {
  auto value = std::make_shared<std::string>();
  rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->bodies, keys::CandidateKey(id), value.get());
  if (!s.ok()) return FromRocks(s, "read " + id.path);
  return Body(std::move(value));
}

Result<CandidateRecord> RocksDbSegmentStore::GetCandidate(const CandidateId& id) {
  std::string value;
  rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->meta, keys::CandidateKey(id), &value);
  if (!s.ok()) return FromRocks(s, "read record of " + id.path);
  return DecodeCandidate(value);
}

Status RocksDbSegmentStore::ForEachCandidate(const std::function<void(CandidateRecord&&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->meta));
  for (const char tag : {'s', 'o'}) {
    const std::string prefix(1, tag);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      auto record = DecodeCandidate(std::string_view(it->value().data(), it->value().size()));
      if (!record.ok()) return record.status();
      fn(std::move(record).value());
    }
  }
  return FromRocks(it->status(), "scan candidates");
}

Status RocksDbSegmentStore::PutSelection(const SelectionRecord& selection) {
  if (Status st = impl_->CheckSpace(4096); !st.ok()) return st;
  return impl_->NoteWrite(
      impl_->db->Put(impl_->write_options, impl_->meta,
                     keys::SelectionKey(selection.event, selection.rendition, selection.number),
                     EncodeSelection(selection)),
      "write selection");
}

Result<SelectionRecord> RocksDbSegmentStore::ProposeSelection(const SelectionRecord& proposed) {
  MutexLock lock(impl_->propose_mu);
  std::string value;
  rocksdb::Status s = impl_->db->Get(
      rocksdb::ReadOptions(), impl_->meta,
      keys::SelectionKey(proposed.event, proposed.rendition, proposed.number), &value);
  if (s.ok()) return DecodeSelection(value);
  if (!s.IsNotFound()) return FromRocks(s, "read selection");
  if (Status st = PutSelection(proposed); !st.ok()) return st;
  return proposed;
}

Status RocksDbSegmentStore::ForEachSelection(const std::function<void(SelectionRecord&&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->meta));
  for (it->Seek("x"); it->Valid() && it->key().starts_with("x"); it->Next()) {
    auto selection = DecodeSelection(std::string_view(it->value().data(), it->value().size()));
    if (!selection.ok()) return selection.status();
    fn(std::move(selection).value());
  }
  return FromRocks(it->status(), "scan selections");
}

Status RocksDbSegmentStore::ApplyOperatorChange(const OperatorChange& change) {
  if (Status st = impl_->CheckSpace(4096); !st.ok()) return st;
  rocksdb::WriteBatch batch;
  if (change.pipeline) {
    batch.Put(impl_->meta,
              keys::PipelineControlKey(change.pipeline->event, change.pipeline->pipeline),
              EncodePipelineControl(*change.pipeline));
  }
  if (change.forced) {
    batch.Put(impl_->meta, keys::ForcedKey(*change.forced), EncodeForcedSelection(*change.forced));
  }
  batch.Put(impl_->meta, keys::AuditKey(change.audit), EncodeAudit(change.audit));
  return impl_->NoteWrite(impl_->db->Write(impl_->write_options, &batch), "write operator change");
}

namespace {

// Decodes every meta value under the one-character `tag`.
template <typename Record>
Status ScanTag(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, char tag,
               Result<Record> (*decode)(std::string_view), const std::function<void(Record&&)>& fn,
               std::string_view what) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  const std::string prefix(1, tag);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto record = decode(std::string_view(it->value().data(), it->value().size()));
    if (!record.ok()) return record.status();
    fn(std::move(record).value());
  }
  return FromRocks(it->status(), what);
}

}  // namespace

Status RocksDbSegmentStore::ForEachPipelineControl(
    const std::function<void(PipelineControlRecord&&)>& fn) {
  return ScanTag<PipelineControlRecord>(impl_->db.get(), impl_->meta, 'p', &DecodePipelineControl,
                                        fn, "scan pipeline controls");
}

Status RocksDbSegmentStore::ForEachForcedSelection(
    const std::function<void(ForcedSelectionRecord&&)>& fn) {
  Status st = ScanTag<ForcedSelectionRecord>(impl_->db.get(), impl_->meta, 'f',
                                             &DecodeForcedSelection, fn, "scan forced selections");
  if (!st.ok()) return st;
  return ScanTag<ForcedSelectionRecord>(impl_->db.get(), impl_->meta, 'g', &DecodeForcedSelection,
                                        fn, "scan forced selections");
}

Status RocksDbSegmentStore::ForEachAudit(const std::function<void(AuditRecord&&)>& fn) {
  return ScanTag<AuditRecord>(impl_->db.get(), impl_->meta, 'a', &DecodeAudit, fn, "scan audit");
}

Status RocksDbSegmentStore::DeleteSegmentsBefore(std::string_view event, std::string_view rendition,
                                                 uint64_t first_kept) {
  rocksdb::WriteBatch batch;
  const std::string begin = keys::SegmentKey('s', event, rendition, 0);
  const std::string end = keys::SegmentKey('s', event, rendition, first_kept);
  batch.DeleteRange(impl_->meta, begin, end);
  batch.DeleteRange(impl_->bodies, begin, end);
  batch.DeleteRange(impl_->meta, keys::SegmentKey('x', event, rendition, 0),
                    keys::SegmentKey('x', event, rendition, first_kept));
  batch.DeleteRange(impl_->meta, keys::SegmentKey('f', event, rendition, 0),
                    keys::SegmentKey('f', event, rendition, first_kept));
  return impl_->NoteWrite(impl_->db->Write(impl_->write_options, &batch), "retention delete");
}

Status RocksDbSegmentStore::DeleteObject(std::string_view event, std::string_view path) {
  const std::string prefix = keys::ObjectPrefix(event, path);
  const std::string end = PrefixEnd(prefix);
  rocksdb::WriteBatch batch;
  batch.DeleteRange(impl_->meta, prefix, end);
  batch.DeleteRange(impl_->bodies, prefix, end);
  batch.Delete(impl_->meta, keys::ForcedObjectKey(event, path));
  return impl_->NoteWrite(impl_->db->Write(impl_->write_options, &batch), "delete object");
}

Status RocksDbSegmentStore::Health() const {
  Status last;
  {
    MutexLock lock(impl_->health_mu);
    last = impl_->last_write_error;
  }
  // A refusal for lack of space ends when space comes back (twice the reserve,
  // so readiness does not flap at the threshold), even before the next write.
  if (last.IsNoSpace() && impl_->min_free_bytes) {
    struct statvfs fs {};
    if (::statvfs(impl_->path.c_str(), &fs) == 0 &&
        static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize >= 2 * impl_->min_free_bytes) {
      return Status::Ok();
    }
  }
  return last;
}

bool RocksDbSegmentStore::sync_writes() const { return impl_->write_options.sync; }

Status RocksDbSegmentStore::SyncWal() {
  return FromRocks(impl_->db->FlushWAL(/*sync=*/true), "sync WAL");
}

Status RocksDbSegmentStore::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs = {impl_->meta, impl_->bodies};
  Status st = FromRocks(impl_->db->Flush(fo, cfs), "flush");
  if (!st.ok()) return st;
  return FromRocks(impl_->db->FlushWAL(true), "flush WAL");
}

}  // namespace liveorigin::storage
