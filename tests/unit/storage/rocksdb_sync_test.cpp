// sync_writes (SPEC §7): with `sync_writes: true` every acknowledged write is
// fsynced in RocksDB's write-ahead log before it returns; with false it is not.
//
// Observed without timing or fault injection: this binary defines fsync and
// fdatasync itself, so the calls librocksdb makes resolve here (ELF symbol
// interposition), are counted per file, and are forwarded to the kernel. Only
// calls on the write-ahead log (`NNNNNN.log` in the database directory) count.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <filesystem>
#include <random>
#include <string>

#include "liveorigin/storage/rocksdb_segment_store.h"

namespace {

std::atomic<uint64_t> g_wal_syncs{0};

bool IsWriteAheadLog(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[PATH_MAX];
  const ssize_t n = ::readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  const std::string path(target, static_cast<size_t>(n));
  return path.find("liveorigin-sync-") != std::string::npos && path.size() > 4 &&
         path.compare(path.size() - 4, 4, ".log") == 0;
}

void Note(int fd) {
  if (IsWriteAheadLog(fd)) ++g_wal_syncs;
}

}  // namespace

extern "C" int fdatasync(int fd) {
  Note(fd);
  return static_cast<int>(::syscall(SYS_fdatasync, fd));
}

extern "C" int fsync(int fd) {
  Note(fd);
  return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace liveorigin::storage {
namespace {

namespace fs = std::filesystem;

fs::path TempDir() {
  std::random_device rd;
  return fs::temp_directory_path() /
         ("liveorigin-sync-" + std::to_string(rd()) + "-" + std::to_string(::getpid()));
}

CandidateRecord Segment(uint64_t n) {
  CandidateRecord r;
  r.id = {"demo", "v/" + std::to_string(n) + ".m4s", "v", n, "a"};
  r.kind = ObjectKind::kSegment;
  r.etag = "e" + std::to_string(n);
  return r;
}

// WAL syncs made by three candidate writes, one selection and one retention
// delete through a store opened with `sync_writes`.
uint64_t WalSyncsForFiveWrites(bool sync_writes) {
  const fs::path dir = TempDir();
  uint64_t syncs = 0;
  {
    auto opened = RocksDbSegmentStore::Open({dir, sync_writes, 0});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return 0;
    auto& store = *opened;
    EXPECT_EQ(store->sync_writes(), sync_writes) << "the option reported is the one in force";
    const uint64_t before = g_wal_syncs.load();
    for (uint64_t n = 1; n <= 3; ++n) {
      EXPECT_TRUE(store->PutCandidate(Segment(n), std::string(10000, 'x')).ok());
    }
    EXPECT_TRUE(store->PutSelection({"demo", "v", 1, "a", "e1"}).ok());
    EXPECT_TRUE(store->DeleteSegmentsBefore("demo", "v", 2).ok());
    syncs = g_wal_syncs.load() - before;
  }
  fs::remove_all(dir);
  return syncs;
}

TEST(RocksDbSyncWritesTest, EveryWriteSyncsTheWriteAheadLogWhenAsked) {
  EXPECT_GE(WalSyncsForFiveWrites(true), 5u) << "one WAL fsync per acknowledged write";
}

TEST(RocksDbSyncWritesTest, WritesDoNotSyncWhenNotAsked) {
  // Also proves the counter sees RocksDB's calls at all: the test above needs it.
  EXPECT_EQ(WalSyncsForFiveWrites(false), 0u);
}

}  // namespace
}  // namespace liveorigin::storage
