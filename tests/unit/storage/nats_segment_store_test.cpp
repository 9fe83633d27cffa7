// NatsSegmentStore against a real 3-server JetStream cluster (SPEC §10): the
// SegmentStore contract, bodies in parts, compare-and-set selections between
// two clients, retention, announcements, and a cluster that goes away.
#include "liveorigin/storage/nats_segment_store.h"

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <atomic>
#include <memory>
#include <thread>

#include "nats_cluster.h"

namespace liveorigin::storage {
namespace {

using testing::NatsCluster;

// Generous: a busy machine elects JetStream leaders slowly.
constexpr auto kPatience = std::chrono::seconds(60);

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xFF);
  }
  return s;
}

CandidateRecord Segment(const std::string& rendition, uint64_t n, const std::string& pipeline,
                        const std::string& body) {
  CandidateRecord r;
  r.id.event = "live";
  r.id.rendition = rendition;
  r.id.number = n;
  r.id.path = rendition + "/" + std::to_string(n) + ".m4s";
  r.id.pipeline = pipeline;
  r.kind = ObjectKind::kSegment;
  r.content_type = "video/iso.segment";
  r.size = body.size();
  r.etag = "e" + std::to_string(n) + pipeline + std::to_string(body.size());
  r.ingest_unix_ms = 1700000000000 + static_cast<int64_t>(n);
  return r;
}

// Opens a store once the cluster has elected its JetStream leaders.
std::unique_ptr<NatsSegmentStore> OpenStore(
    NatsCluster& cluster, const std::string& prefix, const std::string& node = "test",
    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  NatsOptions o;
  o.servers = cluster.Urls();
  o.replicas = 3;
  o.prefix = prefix;
  o.node = node;
  o.timeout = timeout;
  Status last;
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < deadline) {
    auto store = NatsSegmentStore::Open(o);
    if (store.ok()) return std::move(store).value();
    last = store.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "cannot open the NATS store: " << last.ToString() << cluster.Describe();
  return nullptr;
}

// Pipeline "a" of event "live" taken out of selection at `at_unix_ms`, with
// its audit entry (sequence 1).
OperatorChange DisablePipelineA(int64_t at_unix_ms) {
  OperatorChange change;
  change.pipeline = PipelineControlRecord{"live", "a", true, {at_unix_ms, "node", "127.0.0.1", ""}};
  change.audit.event = "live";
  change.audit.sequence = 1;
  change.audit.action = "disable";
  change.audit.pipeline = "a";
  change.audit.actor = {at_unix_ms, "node", "127.0.0.1", ""};
  return change;
}

// Kills the server ("n<i>") leading the body stream, so that JetStream must
// elect another; returns its name, or "" (after a failure) when it is unknown.
std::string KillBodyStreamLeader(NatsSegmentStore& store, NatsCluster& cluster) {
  auto leader = store.BodyStreamLeader();
  if (!leader.ok() || leader->size() != 2 || (*leader)[0] != 'n' ||
      static_cast<size_t>((*leader)[1] - '0') >= cluster.size()) {
    ADD_FAILURE() << "no body stream leader among the servers: "
                  << (leader.ok() ? *leader : leader.status().ToString());
    return "";
  }
  cluster.Kill(static_cast<size_t>((*leader)[1] - '0'));
  return *leader;
}

class NatsStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new NatsCluster(3);
    if (!cluster_->Start()) {
      delete cluster_;
      cluster_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "the NATS cluster did not start";
    prefix_ = std::string("t_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    store_ = OpenStore(*cluster_, prefix_);
    ASSERT_NE(store_, nullptr);
  }

  static NatsCluster* cluster_;
  std::string prefix_;
  std::unique_ptr<NatsSegmentStore> store_;
};

NatsCluster* NatsStoreTest::cluster_ = nullptr;

TEST_F(NatsStoreTest, StoresAndReadsCandidatesFromAnyClient) {
  const std::string body = Bytes(70000, 1);
  const CandidateRecord rec = Segment("v1", 7, "a", body);
  ASSERT_TRUE(store_->PutCandidate(rec, body).ok());

  auto other = OpenStore(*cluster_, prefix_, "other");
  ASSERT_NE(other, nullptr);
  auto got = other->GetBody(rec.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(**got, body);
  auto record = other->GetCandidate(rec.id);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->etag, rec.etag);
  EXPECT_EQ(record->id.path, rec.id.path);

  std::vector<CandidateRecord> all;
  ASSERT_TRUE(other->ForEachCandidate([&](CandidateRecord&& r) { all.push_back(r); }).ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].etag, rec.etag);

  CandidateId missing = rec.id;
  missing.pipeline = "b";
  EXPECT_TRUE(other->GetBody(missing).status().IsNotFound());
  EXPECT_TRUE(other->GetCandidate(missing).status().IsNotFound());
}

TEST_F(NatsStoreTest, ScansInKeyOrder) {
  for (uint64_t n : {12, 3, 100, 7}) {
    const std::string body = Bytes(100, static_cast<uint32_t>(n));
    ASSERT_TRUE(store_->PutCandidate(Segment("v1", n, "a", body), body).ok());
  }
  CandidateRecord other;
  other.id = {"live", "manifest.mpd", "", std::nullopt, "a"};
  other.etag = "m";
  ASSERT_TRUE(store_->PutCandidate(other, "mpd").ok());
  std::vector<std::string> order;
  ASSERT_TRUE(store_
                  ->ForEachCandidate([&](CandidateRecord&& r) {
                    order.push_back(r.id.number ? std::to_string(*r.id.number) : r.id.path);
                  })
                  .ok());
  EXPECT_EQ(order, (std::vector<std::string>{"3", "7", "12", "100", "manifest.mpd"}));
}

TEST_F(NatsStoreTest, LargeBodiesAreSplitIntoPartsAndReadBackWhole) {
  const size_t part = store_->part_size();
  ASSERT_GT(part, 0u);
  const std::string body = Bytes(3 * part + 12345, 2);
  const CandidateRecord rec = Segment("v1", 1, "a", body);
  ASSERT_TRUE(store_->PutCandidate(rec, body).ok());
  auto messages = store_->BodyMessages();
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(*messages, 4u);
  auto got = store_->GetBody(rec.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->get()->size(), body.size());
  EXPECT_TRUE(**got == body);

  // A replacement leaves only its own parts behind.
  const std::string smaller = Bytes(part + 1, 3);
  ASSERT_TRUE(store_->PutCandidate(Segment("v1", 1, "a", smaller), smaller).ok());
  messages = store_->BodyMessages();
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(*messages, 2u);
  got = store_->GetBody(rec.id);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(**got == smaller);
}

TEST_F(NatsStoreTest, EmptyBodiesAreStored) {
  const CandidateRecord rec = Segment("v1", 2, "a", "");
  ASSERT_TRUE(store_->PutCandidate(rec, "").ok());
  auto got = store_->GetBody(rec.id);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->get()->empty());
}

TEST_F(NatsStoreTest, RacingProposalsFromTwoClientsConvergeOnOneWinner) {
  auto other = OpenStore(*cluster_, prefix_, "other");
  ASSERT_NE(other, nullptr);
  constexpr uint64_t kSegments = 40;
  std::vector<SelectionRecord> won_a(kSegments), won_b(kSegments);
  std::atomic<int> failures{0};
  auto propose = [&](SegmentStore* store, const std::string& pipeline,
                     std::vector<SelectionRecord>* won) {
    for (uint64_t n = 0; n < kSegments; ++n) {
      auto w = store->ProposeSelection({"live", "v1", n, pipeline, "etag-" + pipeline});
      if (!w.ok()) {
        ++failures;
        continue;
      }
      (*won)[n] = *w;
    }
  };
  std::thread ta(propose, store_.get(), "a", &won_a);
  std::thread tb(propose, other.get(), "b", &won_b);
  ta.join();
  tb.join();
  ASSERT_EQ(failures.load(), 0);
  for (uint64_t n = 0; n < kSegments; ++n) {
    EXPECT_EQ(won_a[n].pipeline, won_b[n].pipeline) << "segment " << n;
    EXPECT_EQ(won_a[n].etag, "etag-" + won_a[n].pipeline);
  }
  // A later proposal never changes the decision.
  auto again = store_->ProposeSelection({"live", "v1", 0, "c", "etag-c"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pipeline, won_a[0].pipeline);
  std::vector<SelectionRecord> stored;
  ASSERT_TRUE(other->ForEachSelection([&](SelectionRecord&& s) { stored.push_back(s); }).ok());
  EXPECT_EQ(stored.size(), kSegments);
}

TEST_F(NatsStoreTest, RetentionDeletesRecordsBodiesAndSelections) {
  for (uint64_t n = 1; n <= 5; ++n) {
    const std::string body = Bytes(1000, static_cast<uint32_t>(n));
    ASSERT_TRUE(store_->PutCandidate(Segment("v1", n, "a", body), body).ok());
    ASSERT_TRUE(store_->PutCandidate(Segment("v2", n, "a", body), body).ok());
    ASSERT_TRUE(store_->PutSelection({"live", "v1", n, "a", "x"}).ok());
  }
  ASSERT_EQ(*store_->BodyMessages(), 10u);
  ASSERT_TRUE(store_->DeleteSegmentsBefore("live", "v1", 4).ok());
  for (uint64_t n = 1; n <= 5; ++n) {
    const std::string body = Bytes(1000, static_cast<uint32_t>(n));
    auto got = store_->GetBody(Segment("v1", n, "a", body).id);
    EXPECT_EQ(got.ok(), n >= 4) << n;
    EXPECT_TRUE(store_->GetBody(Segment("v2", n, "a", body).id).ok()) << n;
  }
  EXPECT_EQ(*store_->BodyMessages(), 7u);
  std::vector<uint64_t> selections;
  ASSERT_TRUE(
      store_->ForEachSelection([&](SelectionRecord&& s) { selections.push_back(s.number); }).ok());
  EXPECT_EQ(selections, (std::vector<uint64_t>{4, 5}));

  CandidateRecord manifest;
  manifest.id = {"live", "manifest.mpd", "", std::nullopt, "a"};
  ASSERT_TRUE(store_->PutCandidate(manifest, "mpd").ok());
  ASSERT_TRUE(store_->DeleteObject("live", "manifest.mpd").ok());
  EXPECT_TRUE(store_->GetBody(manifest.id).status().IsNotFound());
  EXPECT_EQ(*store_->BodyMessages(), 7u);
}

// Removes every message of `subject` from `stream`, as if it had never been
// written (the store's scans see nothing, not even a delete marker).
void PurgeBehindTheStoresBack(const std::string& url, const std::string& stream,
                              const std::string& subject) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, url.c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Purge.Subject = subject.c_str();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  EXPECT_EQ(js_PurgeStream(js, stream.c_str(), &o, &jerr), NATS_OK) << jerr;
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

// NATS has no write of several keys at once: a control is stored in one
// value with its audit entry, and the trail ("a." keys) is a second write.
// When that second write is lost, the entry is still read; and the next
// change of the same control puts the earlier entry on the trail first.
TEST_F(NatsStoreTest, AChangeKeepsItsAuditEntryWhenTheTrailWriteIsLost) {
  OperatorChange disable = DisablePipelineA(1000);
  ASSERT_TRUE(store_->ApplyOperatorChange(disable).ok());
  const std::string bucket = prefix_ + "_meta";
  PurgeBehindTheStoresBack(cluster_->Url(0), "KV_" + bucket, "$KV." + bucket + ".a.>");

  auto trail = [&] {
    std::vector<std::string> actions;
    EXPECT_TRUE(store_->ForEachAudit([&](AuditRecord&& r) { actions.push_back(r.action); }).ok());
    return actions;
  };
  EXPECT_EQ(trail(), std::vector<std::string>{"disable"});

  OperatorChange enable = disable;
  enable.pipeline->disabled = false;
  enable.pipeline->changed.at_unix_ms = 2000;
  enable.audit.sequence = 2;
  enable.audit.action = "enable";
  enable.audit.actor.at_unix_ms = 2000;
  ASSERT_TRUE(store_->ApplyOperatorChange(enable).ok());
  EXPECT_EQ(trail(), (std::vector<std::string>{"disable", "enable"}));
  int controls = 0;
  ASSERT_TRUE(store_
                  ->ForEachPipelineControl([&](PipelineControlRecord&& r) {
                    EXPECT_FALSE(r.disabled);
                    ++controls;
                  })
                  .ok());
  EXPECT_EQ(controls, 1);
}

TEST_F(NatsStoreTest, OperatorRecordsRoundTrip) {
  OperatorChange change = DisablePipelineA(1);
  ASSERT_TRUE(store_->ApplyOperatorChange(change).ok());
  OperatorChange forced;
  forced.forced = ForcedSelectionRecord{"live", "v1/3.m4s", "v1", 3, "b", "eb", "a", "ea", {}};
  forced.audit = change.audit;
  forced.audit.sequence = 2;
  forced.audit.action = "select";
  ASSERT_TRUE(store_->ApplyOperatorChange(forced).ok());

  int controls = 0, forced_count = 0, audits = 0;
  ASSERT_TRUE(store_
                  ->ForEachPipelineControl([&](PipelineControlRecord&& r) {
                    EXPECT_TRUE(r.disabled);
                    ++controls;
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->ForEachForcedSelection([&](ForcedSelectionRecord&& r) {
                    EXPECT_EQ(r.pipeline, "b");
                    ++forced_count;
                  })
                  .ok());
  ASSERT_TRUE(store_->ForEachAudit([&](AuditRecord&& r) { ++audits; }).ok());
  EXPECT_EQ(controls, 1);
  EXPECT_EQ(forced_count, 1);
  EXPECT_EQ(audits, 2);
  // Retention removes the forced selection with its segment.
  ASSERT_TRUE(store_->DeleteSegmentsBefore("live", "v1", 4).ok());
  forced_count = 0;
  ASSERT_TRUE(
      store_->ForEachForcedSelection([&](ForcedSelectionRecord&&) { ++forced_count; }).ok());
  EXPECT_EQ(forced_count, 0);
}

TEST_F(NatsStoreTest, OtherClientsHearOfStoredCandidates) {
  auto other = OpenStore(*cluster_, prefix_, "other");
  ASSERT_NE(other, nullptr);
  std::mutex mu;
  std::vector<CandidateRecord> heard_by_other, heard_by_self;
  other->SetRemoteCandidateListener([&](CandidateRecord&& r) {
    std::lock_guard lock(mu);
    heard_by_other.push_back(r);
  });
  store_->SetRemoteCandidateListener([&](CandidateRecord&& r) {
    std::lock_guard lock(mu);
    heard_by_self.push_back(r);
  });
  const std::string body = Bytes(500, 9);
  ASSERT_TRUE(store_->PutCandidate(Segment("v1", 9, "a", body), body).ok());
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (!heard_by_other.empty() || std::chrono::steady_clock::now() > deadline) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  other->SetRemoteCandidateListener(nullptr);
  store_->SetRemoteCandidateListener(nullptr);
  std::lock_guard lock(mu);
  ASSERT_EQ(heard_by_other.size(), 1u);
  EXPECT_EQ(heard_by_other[0].id.number, 9u);
  EXPECT_EQ(heard_by_other[0].etag, Segment("v1", 9, "a", body).etag);
  EXPECT_TRUE(heard_by_self.empty());
}

// Its own cluster: it kills servers.
TEST(NatsStoreFailureTest, OneServerLostKeepsAcknowledgedDataAllLostIsUnavailable) {
  NatsCluster cluster(3);
  ASSERT_TRUE(cluster.Start());
  auto store = OpenStore(cluster, "fail");
  ASSERT_NE(store, nullptr);
  std::vector<CandidateRecord> acked;
  for (uint64_t n = 0; n < 10; ++n) {
    const std::string body = Bytes(20000, static_cast<uint32_t>(n));
    const CandidateRecord rec = Segment("v1", n, "a", body);
    ASSERT_TRUE(store->PutCandidate(rec, body).ok());
    acked.push_back(rec);
  }
  // The server leading the body stream goes: JetStream must elect another.
  const std::string leader = KillBodyStreamLeader(*store, cluster);
  ASSERT_FALSE(leader.empty());
  // Writes resume once JetStream has a leader among the two left.
  uint64_t n = 10;
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  bool resumed = false;
  while (!resumed && std::chrono::steady_clock::now() < deadline) {
    const std::string body = Bytes(20000, static_cast<uint32_t>(n));
    const CandidateRecord rec = Segment("v1", n, "a", body);
    if (store->PutCandidate(rec, body).ok()) {
      acked.push_back(rec);
      resumed = true;
    }
    ++n;
  }
  ASSERT_TRUE(resumed) << "no write succeeded with two of three servers";
  for (const auto& rec : acked) {
    auto got = store->GetBody(rec.id);
    ASSERT_TRUE(got.ok()) << *rec.id.number << ": " << got.status().ToString();
    EXPECT_TRUE(**got == Bytes(20000, static_cast<uint32_t>(*rec.id.number)));
  }
  EXPECT_TRUE(store->Health().ok());

  for (size_t i = 0; i < cluster.size(); ++i) cluster.Kill(i);
  bool unhealthy = false;
  const auto down_deadline = std::chrono::steady_clock::now() + kPatience;
  while (!unhealthy && std::chrono::steady_clock::now() < down_deadline) {
    unhealthy = !store->Health().ok();
    if (!unhealthy) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(unhealthy) << "Health() stays OK with every NATS server gone";
  const std::string body = Bytes(100, 1);
  const Status st = store->PutCandidate(Segment("v1", 999, "a", body), body);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
}

// A write that starts while JetStream elects a new leader for the body
// stream is sent again until one acknowledges it, within the timeout: the
// election (seconds with nats-server 2.9) is shorter than the timeout here,
// so the write succeeds, and its body is stored once.
TEST(NatsStoreFailureTest, AWriteIssuedDuringALeaderElectionWaitsForTheNewLeader) {
  NatsCluster cluster(3);
  ASSERT_TRUE(cluster.Start());
  // Opened once the cluster is ready (a first open with the short timeout
  // waits for that), with a timeout longer than any election.
  ASSERT_NE(OpenStore(cluster, "elect"), nullptr);
  auto store = OpenStore(cluster, "elect", "test",
                         std::chrono::duration_cast<std::chrono::milliseconds>(kPatience));
  ASSERT_NE(store, nullptr);
  for (uint64_t n = 0; n < 3; ++n) {
    const std::string body = Bytes(20000, static_cast<uint32_t>(n));
    ASSERT_TRUE(store->PutCandidate(Segment("v1", n, "a", body), body).ok());
  }
  auto before = store->BodyMessages();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  const std::string leader = KillBodyStreamLeader(*store, cluster);
  ASSERT_FALSE(leader.empty());

  const std::string body = Bytes(30000, 7);
  const CandidateRecord rec = Segment("v1", 3, "a", body);
  const Status put = store->PutCandidate(rec, body);
  ASSERT_TRUE(put.ok()) << put.ToString() << cluster.Describe();
  auto got = store->GetBody(rec.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(**got == body);
  auto after = store->BodyMessages();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, *before + 1) << "the body was stored more than once";
}

// The same for a read: one issued right after the body stream's leader is
// lost meets the election (a request to the dead leader goes unanswered,
// then JetStream refuses with "temporarily unavailable") and is sent again
// until the new leader answers, within the timeout.
TEST(NatsStoreFailureTest, AReadIssuedDuringALeaderElectionWaitsForTheNewLeader) {
  NatsCluster cluster(3);
  ASSERT_TRUE(cluster.Start());
  ASSERT_NE(OpenStore(cluster, "elect"), nullptr);
  auto store = OpenStore(cluster, "elect", "test",
                         std::chrono::duration_cast<std::chrono::milliseconds>(kPatience));
  ASSERT_NE(store, nullptr);
  const std::string body = Bytes(30000, 5);
  const CandidateRecord rec = Segment("v1", 5, "a", body);
  ASSERT_TRUE(store->PutCandidate(rec, body).ok());
  const std::string leader = KillBodyStreamLeader(*store, cluster);
  ASSERT_FALSE(leader.empty());

  auto got = store->GetBody(rec.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString() << cluster.Describe();
  EXPECT_TRUE(**got == body);
  auto after = store->BodyStreamLeader();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_NE(*after, leader) << "the read did not outlast the lost leader";
}

// One server of three left: no quorum, so no write can succeed, although a
// replica may still answer reads. The store says so from the first failed
// write until the quorum is back (its probe is a write).
TEST(NatsStoreFailureTest, LosingTheQuorumIsUnhealthyUntilItIsBack) {
  NatsCluster cluster(3);
  ASSERT_TRUE(cluster.Start());
  auto store = OpenStore(cluster, "quorum");
  ASSERT_NE(store, nullptr);
  const std::string body = Bytes(1000, 1);
  const CandidateRecord rec = Segment("v1", 1, "a", body);
  ASSERT_TRUE(store->PutCandidate(rec, body).ok());
  ASSERT_TRUE(store->Health().ok());

  cluster.Kill(0);
  cluster.Kill(1);
  // The node report, written every few seconds by a node, fails.
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  bool failed = false;
  while (!failed && std::chrono::steady_clock::now() < deadline) {
    failed = !store->PutNodeReport("test", "{}").ok();
  }
  ASSERT_TRUE(failed) << "a write succeeded with one server of three";
  // It stays unhealthy over several probes (one a second at most).
  for (int i = 0; i < 4; ++i) {
    const Status health = store->Health();
    EXPECT_FALSE(health.ok()) << "probe " << i << ": healthy without a quorum";
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }

  ASSERT_TRUE(cluster.Restart(0));
  ASSERT_TRUE(cluster.Restart(1));
  bool healthy = false;
  const auto back_deadline = std::chrono::steady_clock::now() + kPatience;
  while (!healthy && std::chrono::steady_clock::now() < back_deadline) {
    healthy = store->Health().ok();
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(healthy) << "Health() stays failed with the quorum back" << cluster.Describe();
  // The body stream elects its leader on its own schedule, which may come
  // after the probe's bucket has one: the read gets as long as the rest.
  auto reader = OpenStore(cluster, "quorum", "reader",
                          std::chrono::duration_cast<std::chrono::milliseconds>(kPatience));
  ASSERT_NE(reader, nullptr);
  auto got = reader->GetBody(rec.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(**got == body);
}

}  // namespace
}  // namespace liveorigin::storage
