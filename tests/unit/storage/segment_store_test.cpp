// Conformance tests run against every SegmentStore implementation, plus
// RocksDB-specific persistence tests.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "liveorigin/storage/rocksdb_segment_store.h"
#include "memory_segment_store.h"

namespace liveorigin::storage {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  std::random_device rd;
  fs::path p = fs::temp_directory_path() /
               ("liveorigin-" + name + "-" + std::to_string(rd()) + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

CandidateRecord Segment(const std::string& rendition, uint64_t n, const std::string& pipeline) {
  CandidateRecord r;
  r.id = {"demo", rendition + "/" + std::to_string(n) + ".m4s", rendition, n, pipeline};
  r.kind = ObjectKind::kSegment;
  r.content_type = "video/iso.segment";
  r.etag = "e" + std::to_string(n);
  r.header_defects = {"slate"};
  r.tracks = {{1, 90000, n * 180000, 180000, 50, 3600}};
  return r;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      store_ = std::make_unique<MemorySegmentStore>();
    } else {
      dir_ = TempDir("store");
      auto opened = RocksDbSegmentStore::Open({dir_, false});
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      store_ = std::move(opened).value();
    }
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::vector<CandidateRecord> All() {
    std::vector<CandidateRecord> out;
    EXPECT_TRUE(store_->ForEachCandidate([&](CandidateRecord&& r) { out.push_back(r); }).ok());
    return out;
  }

  fs::path dir_;
  std::unique_ptr<SegmentStore> store_;
};

TEST_P(StoreTest, PutThenGetReturnsSameBytesAndMetadata) {
  const std::string body(
      "\x00\x01"
      "binary"
      "\xff",
      9);  // split: "\x01b" would be one escape
  auto rec = Segment("v1", 7, "a");
  ASSERT_TRUE(store_->PutCandidate(rec, body).ok());
  auto got = store_->GetBody(rec.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(**got, body);
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id.path, "v1/7.m4s");
  EXPECT_EQ(all[0].id.number, 7u);
  EXPECT_EQ(all[0].header_defects, std::vector<std::string>{"slate"});
  ASSERT_EQ(all[0].tracks.size(), 1u);
  EXPECT_EQ(all[0].tracks[0].base_decode_time, 7u * 180000);
}

TEST_P(StoreTest, GetCandidateAndTheFirstProposedSelectionHolds) {
  auto rec = Segment("v1", 7, "a");
  ASSERT_TRUE(store_->PutCandidate(rec, "x").ok());
  auto got = store_->GetCandidate(rec.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->etag, rec.etag);
  auto other = rec.id;
  other.pipeline = "b";
  EXPECT_TRUE(store_->GetCandidate(other).status().IsNotFound());

  auto first = store_->ProposeSelection({"demo", "v1", 7, "a", "ea"});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->pipeline, "a");
  auto second = store_->ProposeSelection({"demo", "v1", 7, "b", "eb"});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->pipeline, "a");
  EXPECT_EQ(second->etag, "ea");
  auto elsewhere = store_->ProposeSelection({"demo", "v1", 8, "b", "eb"});
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_EQ(elsewhere->pipeline, "b");
}

TEST_P(StoreTest, MissingCandidateIsNotFound) {
  auto got = store_->GetBody(Segment("v1", 1, "a").id);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsNotFound());
}

TEST_P(StoreTest, PipelinesAreSeparateCandidatesAndReplaceTheirOwn) {
  ASSERT_TRUE(store_->PutCandidate(Segment("v1", 1, "a"), "A1").ok());
  ASSERT_TRUE(store_->PutCandidate(Segment("v1", 1, "b"), "B1").ok());
  ASSERT_TRUE(store_->PutCandidate(Segment("v1", 1, "a"), "A2").ok());
  EXPECT_EQ(**store_->GetBody(Segment("v1", 1, "a").id), "A2");
  EXPECT_EQ(**store_->GetBody(Segment("v1", 1, "b").id), "B1");
  EXPECT_EQ(All().size(), 2u);
}

TEST_P(StoreTest, ScanOrdersSegmentsByNumberNotByText) {
  for (uint64_t n : {10, 9, 100, 1})
    ASSERT_TRUE(store_->PutCandidate(Segment("v", n, "a"), "x").ok());
  std::vector<uint64_t> numbers;
  for (auto& r : All()) numbers.push_back(*r.id.number);
  EXPECT_EQ(numbers, (std::vector<uint64_t>{1, 9, 10, 100}));
}

TEST_P(StoreTest, DeleteSegmentsBeforeRemovesOnlyThatRenditionsOlderRange) {
  for (uint64_t n = 0; n < 10; ++n) {
    ASSERT_TRUE(store_->PutCandidate(Segment("v1", n, "a"), "x").ok());
    ASSERT_TRUE(store_->PutCandidate(Segment("v10", n, "a"), "y").ok());
    ASSERT_TRUE(store_->PutSelection({"demo", "v1", n, "a", "e"}).ok());
  }
  ASSERT_TRUE(store_->DeleteSegmentsBefore("demo", "v1", 6).ok());
  size_t v1 = 0, v10 = 0;
  for (auto& r : All()) (r.id.rendition == "v1" ? v1 : v10)++;
  EXPECT_EQ(v1, 4u);
  EXPECT_EQ(v10, 10u);
  EXPECT_TRUE(store_->GetBody(Segment("v1", 5, "a").id).status().IsNotFound());
  EXPECT_TRUE(store_->GetBody(Segment("v1", 6, "a").id).ok());
  std::vector<uint64_t> sel;
  ASSERT_TRUE(store_->ForEachSelection([&](SelectionRecord&& s) { sel.push_back(s.number); }).ok());
  EXPECT_EQ(sel, (std::vector<uint64_t>{6, 7, 8, 9}));
}

TEST_P(StoreTest, NonSegmentObjectsAndDeleteObject) {
  CandidateRecord r;
  r.id = {"demo", "manifest.mpd", "", std::nullopt, "a"};
  ASSERT_TRUE(store_->PutCandidate(r, "<MPD/>").ok());
  r.id.pipeline = "b";
  ASSERT_TRUE(store_->PutCandidate(r, "<MPD b/>").ok());
  CandidateRecord other = r;
  other.id.path = "manifest.mpd2";
  ASSERT_TRUE(store_->PutCandidate(other, "z").ok());
  EXPECT_EQ(All().size(), 3u);
  ASSERT_TRUE(store_->DeleteObject("demo", "manifest.mpd").ok());
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id.path, "manifest.mpd2");
}

TEST_P(StoreTest, OperatorChangesAreStoredWithTheirAuditAndAgeOutWithTheirObjects) {
  OperatorChange disable;
  disable.pipeline = PipelineControlRecord{"demo", "a", true, {10, "n1", "1.2.3.4:5", "t"}};
  disable.audit = AuditRecord{"demo", 1, "disable", "a", "", "", "", {10, "n1", "1.2.3.4:5", "t"}};
  ASSERT_TRUE(store_->ApplyOperatorChange(disable).ok());
  disable.pipeline->disabled = false;  // enable replaces the record
  disable.audit.action = "enable";
  disable.audit.sequence = 2;
  disable.audit.actor.at_unix_ms = 20;
  ASSERT_TRUE(store_->ApplyOperatorChange(disable).ok());

  auto forced = [](std::string path, std::optional<uint64_t> n) {
    OperatorChange c;
    ForcedSelectionRecord f;
    f.event = "demo";
    f.path = path;
    f.rendition = n ? "v" : "";
    f.number = n;
    f.pipeline = "b";
    c.forced = f;
    c.audit = AuditRecord{"demo", 3 + n.value_or(100), "select", "b", path, "", "", {30}};
    return c;
  };
  ASSERT_TRUE(store_->ApplyOperatorChange(forced("v/5.m4s", 5)).ok());
  ASSERT_TRUE(store_->ApplyOperatorChange(forced("v/9.m4s", 9)).ok());
  ASSERT_TRUE(store_->ApplyOperatorChange(forced("manifest.mpd", std::nullopt)).ok());

  std::vector<PipelineControlRecord> controls;
  ASSERT_TRUE(store_->ForEachPipelineControl([&](auto&& r) { controls.push_back(r); }).ok());
  ASSERT_EQ(controls.size(), 1u);
  EXPECT_FALSE(controls[0].disabled);
  std::vector<AuditRecord> audit;
  ASSERT_TRUE(store_->ForEachAudit([&](auto&& r) { audit.push_back(r); }).ok());
  ASSERT_EQ(audit.size(), 5u);
  EXPECT_EQ(audit[0].action, "disable") << "oldest first";
  EXPECT_EQ(audit[1].action, "enable");

  ASSERT_TRUE(store_->DeleteSegmentsBefore("demo", "v", 6).ok());
  ASSERT_TRUE(store_->DeleteObject("demo", "manifest.mpd").ok());
  std::vector<std::string> left;
  ASSERT_TRUE(store_->ForEachForcedSelection([&](auto&& r) { left.push_back(r.path); }).ok());
  EXPECT_EQ(left, std::vector<std::string>{"v/9.m4s"});
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values("memory", "rocksdb"));

TEST(RocksDbStoreTest, DataSurvivesReopen) {
  const fs::path dir = TempDir("reopen");
  {
    auto store = RocksDbSegmentStore::Open({dir, true});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->PutCandidate(Segment("v1", 3, "a"), "payload").ok());
    ASSERT_TRUE((*store)->PutSelection({"demo", "v1", 3, "a", "e3"}).ok());
  }
  {
    auto store = RocksDbSegmentStore::Open({dir, false});
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(**(*store)->GetBody(Segment("v1", 3, "a").id), "payload");
    int selections = 0;
    ASSERT_TRUE((*store)
                    ->ForEachSelection([&](SelectionRecord&& s) {
                      EXPECT_EQ(s.etag, "e3");
                      ++selections;
                    })
                    .ok());
    EXPECT_EQ(selections, 1);
  }
  fs::remove_all(dir);
}

TEST(RocksDbStoreTest, RefusesWritesBelowTheFreeSpaceReserveInsteadOfFillingTheDisk) {
  const fs::path dir = TempDir("reserve");
  {
    // A reserve larger than any disk: every write is refused before RocksDB sees it.
    auto store = RocksDbSegmentStore::Open({dir, false, uint64_t{1} << 62});
    ASSERT_TRUE(store.ok());
    Status st = (*store)->PutCandidate(Segment("v1", 1, "a"), "payload");
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(st.IsNoSpace()) << st.ToString();
    EXPECT_NE(st.message().find("min_free_disk"), std::string::npos) << st.ToString();
    EXPECT_TRUE((*store)->Health().IsNoSpace()) << "readiness reports it";
    EXPECT_TRUE((*store)->GetBody(Segment("v1", 1, "a").id).status().IsNotFound())
        << "nothing half-written";
  }
  {
    auto store = RocksDbSegmentStore::Open({dir, false, 1 << 20});
    ASSERT_TRUE(store.ok());
    EXPECT_TRUE((*store)->PutCandidate(Segment("v1", 1, "a"), "payload").ok());
    EXPECT_TRUE((*store)->Health().ok());
  }
  fs::remove_all(dir);
}

// The metadata family's memtable takes a few hundred bytes per candidate and
// so is rarely full: unless the log's size forces its flush, every log file
// written since would be kept (and replayed after a crash) while megabytes of
// bodies go through. Past kMaxWalBytes the log is cut back.
TEST(RocksDbStoreTest, TheWriteAheadLogStaysBoundedUnderBodyWrites) {
  const fs::path dir = TempDir("wal");
  uint64_t wal_bytes = 0;
  {
    auto store = RocksDbSegmentStore::Open({dir, false, 0});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const std::string body(size_t{1} << 20, 'b');
    const uint64_t puts = RocksDbSegmentStore::kMaxWalBytes * 3 / 2 / body.size();
    for (uint64_t n = 0; n < puts; ++n) {
      ASSERT_TRUE((*store)->PutCandidate(Segment("v1", n, "a"), body).ok()) << n;
    }
    // RocksDB drops the old log files once their flushes end, in the
    // background; the bound must hold well before this deadline.
    const uint64_t bound = RocksDbSegmentStore::kMaxWalBytes + (uint64_t{64} << 20);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      wal_bytes = 0;
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".log") wal_bytes += entry.file_size(ec);
      }
      if (wal_bytes <= bound || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_LE(wal_bytes, bound) << "after " << puts << " writes of 1 MiB";
    auto last = (*store)->GetBody(Segment("v1", puts - 1, "a").id);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    EXPECT_EQ((*last)->size(), body.size());
  }
  fs::remove_all(dir);
}

// Reserving a new log file's expected size (tens of MiB) stalled the write
// that opened it; the files RocksDB writes are not preallocated.
TEST(RocksDbStoreTest, TheWriteAheadLogIsNotPreallocated) {
  const fs::path dir = TempDir("prealloc");
  {
    auto store = RocksDbSegmentStore::Open({dir, false, 0});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->PutCandidate(Segment("v1", 1, "a"), std::string(100000, 'b')).ok());
    int logs = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".log") continue;
      struct stat st {};
      ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
      const uint64_t allocated = static_cast<uint64_t>(st.st_blocks) * 512;
      EXPECT_LE(allocated, static_cast<uint64_t>(st.st_size) + (uint64_t{1} << 20))
          << entry.path() << ": " << st.st_size << " bytes written, " << allocated << " allocated";
      ++logs;
    }
    EXPECT_GE(logs, 1);
  }
  fs::remove_all(dir);
}

TEST(RocksDbStoreTest, OpenFailsWithClearErrorOnUnusablePath) {
  auto store = RocksDbSegmentStore::Open({"/proc/liveorigin-cannot-create", false});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/proc/liveorigin-cannot-create"), std::string::npos);
}

}  // namespace
}  // namespace liveorigin::storage
