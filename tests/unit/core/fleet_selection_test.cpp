// Scale-out (SPEC §10) in LiveEvent and EventState: the sticky choice is
// proposed to the store, a node that loses serves the winner's candidate
// (read from the store when it did not know it), and candidates learned from
// other nodes never change a sticky candidate's bytes.
#include <gtest/gtest.h>

#include "fmp4_fixtures.h"
#include "liveorigin/core/live_event.h"
#include "memory_segment_store.h"

namespace liveorigin::core {
namespace {

using namespace std::chrono_literals;
using testing::Fixture;
using testing::ShiftTfdt;

Body B(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

std::string Segment(uint64_t n) {
  static const std::string base = Fixture("dash_video_1.m4s");
  return ShiftTfdt(base, static_cast<int64_t>(n) * 12800);
}

class FleetSelectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.id = "ev";
    cfg_.availability_start_time = std::chrono::system_clock::time_point(0s);
    cfg_.start_number = 1;
    cfg_.segment_duration = 1s;
    cfg_.dvr_window = 60s;
    cfg_.media_template =
        config::SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value();
    cfg_.init_template = config::SegmentTemplate::Compile("$RepresentationID$/init.mp4").value();
    cfg_.pipelines = {{"a", std::nullopt}, {"b", std::nullopt}};
    cfg_.preferred_grace = 0ms;
    store_ = std::make_shared<storage::MemorySegmentStore>();
    event_ = MakeEvent(cfg_);
  }

  std::unique_ptr<LiveEvent> MakeEvent(const config::EventConfig& cfg) {
    return std::make_unique<LiveEvent>(std::make_shared<const config::EventConfig>(cfg), store_);
  }

  IngestResult Put(LiveEvent& event, const std::string& pipeline, const std::string& path,
                   std::string body, TimePoint when) {
    auto addr = event.Classify(path);
    EXPECT_TRUE(addr.has_value()) << path;
    std::vector<WaitList::Wake> wake;
    auto result = event.Ingest(*addr, pipeline, B(std::move(body)), {}, "", when, &wake);
    for (auto& w : wake) w();
    return result;
  }

  config::EventConfig cfg_;
  std::shared_ptr<storage::MemorySegmentStore> store_;
  std::unique_ptr<LiveEvent> event_;
};

TEST_F(FleetSelectionTest, ALosingProposalServesTheWinnersCandidate) {
  const TimePoint t = TimePoint(10s);
  for (const char* p : {"a", "b"}) {
    ASSERT_TRUE(Put(*event_, p, "v/init.mp4", Fixture("dash_video_init.mp4"), t).status.ok());
  }
  ASSERT_TRUE(Put(*event_, "a", "v/5.m4s", Segment(5), t).status.ok());
  auto b = Put(*event_, "b", "v/5.m4s", Segment(5) + std::string(8, '\0'), t);
  ASSERT_TRUE(b.status.ok());
  // Another node already made b sticky.
  ASSERT_TRUE(store_->PutSelection({"ev", "v", 5, "b", b.record.etag}).ok());

  Decision d = event_->Resolve(*event_->Classify("v/5.m4s"), t);
  ASSERT_EQ(d.outcome, Selection::Outcome::kServe);
  ASSERT_TRUE(d.persist);
  EXPECT_EQ(d.record.id.pipeline, "a");  // this node's own preference
  std::vector<WaitList::Wake> wake;
  storage::CandidateRecord serve;
  ASSERT_TRUE(event_->PersistSticky(*d.persist, &wake, &serve).ok());
  EXPECT_EQ(serve.id.pipeline, "b");
  EXPECT_EQ(serve.etag, b.record.etag);
  // From now on this node serves b, without proposing again.
  Decision again = event_->Resolve(*event_->Classify("v/5.m4s"), t + 1s);
  EXPECT_EQ(again.record.id.pipeline, "b");
  EXPECT_FALSE(again.persist);
}

TEST_F(FleetSelectionTest, AWinnerNotKnownHereIsReadFromTheStore) {
  const TimePoint t = TimePoint(10s);
  // Node X stored b's candidate and made it sticky; this node only has a's.
  auto other = MakeEvent(cfg_);
  ASSERT_TRUE(Put(*other, "b", "v/7.m4s", Segment(7), t).status.ok());
  auto b_record = store_->GetCandidate({"ev", "v/7.m4s", "v", 7, "b"});
  ASSERT_TRUE(b_record.ok());
  ASSERT_TRUE(store_->PutSelection({"ev", "v", 7, "b", b_record->etag}).ok());
  ASSERT_TRUE(Put(*event_, "a", "v/7.m4s", Segment(7), t).status.ok());

  Decision d = event_->Resolve(*event_->Classify("v/7.m4s"), t);
  ASSERT_TRUE(d.persist);
  std::vector<WaitList::Wake> wake;
  storage::CandidateRecord serve;
  ASSERT_TRUE(event_->PersistSticky(*d.persist, &wake, &serve).ok());
  EXPECT_EQ(serve.id.pipeline, "b");
  EXPECT_EQ(serve.etag, b_record->etag);
}

TEST_F(FleetSelectionTest, TheFirstProposalWins) {
  const TimePoint t = TimePoint(10s);
  ASSERT_TRUE(Put(*event_, "a", "v/3.m4s", Segment(3), t).status.ok());
  Decision d = event_->Resolve(*event_->Classify("v/3.m4s"), t);
  ASSERT_TRUE(d.persist);
  std::vector<WaitList::Wake> wake;
  storage::CandidateRecord serve;
  ASSERT_TRUE(event_->PersistSticky(*d.persist, &wake, &serve).ok());
  EXPECT_EQ(serve.id.pipeline, "a");
  // A later proposal for the same segment gets the first one back.
  auto w = store_->ProposeSelection({"ev", "v", 3, "b", "other"});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->pipeline, "a");
}

TEST_F(FleetSelectionTest, LearnedCandidatesWakeHeldGetsAndNeverChangeStickyBytes) {
  const TimePoint t = TimePoint(10s);
  ASSERT_TRUE(Put(*event_, "a", "v/4.m4s", Segment(4), t).status.ok());
  Decision d = event_->Resolve(*event_->Classify("v/4.m4s"), t);
  ASSERT_TRUE(d.persist);
  std::vector<WaitList::Wake> wake;
  ASSERT_TRUE(event_->PersistSticky(*d.persist, &wake).ok());
  const std::string sticky_etag = d.record.etag;

  // Another node's candidate of a with other bytes: refused, a is sticky.
  storage::CandidateRecord other = d.record;
  other.etag = "different";
  std::vector<WaitList::Wake> none;
  EXPECT_FALSE(event_->Learn(other, Body(), &none));
  EXPECT_EQ(event_->Resolve(*event_->Classify("v/4.m4s"), t).record.etag, sticky_etag);

  // A segment this node holds a GET for: learning its candidate wakes it.
  bool woken = false;
  event_->AddWaiter("v", 6, [&] { woken = true; });
  storage::CandidateRecord six = d.record;
  six.id.number = 6;
  six.id.path = "v/6.m4s";
  six.etag = "six";
  std::vector<WaitList::Wake> to_wake;
  EXPECT_TRUE(event_->Learn(six, Body(), &to_wake));
  for (auto& w : to_wake) w();
  EXPECT_TRUE(woken);
  // Learning it again changes nothing.
  to_wake.clear();
  EXPECT_FALSE(event_->Learn(six, Body(), &to_wake));
  EXPECT_TRUE(to_wake.empty());
}

TEST_F(FleetSelectionTest, RecheckStoreLearnsWhatOtherNodesStored) {
  const TimePoint t = TimePoint(10s);
  auto other = MakeEvent(cfg_);
  ASSERT_TRUE(Put(*other, "b", "v/8.m4s", Segment(8), t).status.ok());
  const ObjectAddress address = *event_->Classify("v/8.m4s");
  EXPECT_FALSE(event_->HasAnyCandidate(address));
  bool woken = false;
  event_->AddWaiter("v", 8, [&] { woken = true; });
  std::vector<WaitList::Wake> wake;
  event_->RecheckStore(address, t, 250ms, &wake);
  for (auto& w : wake) w();
  EXPECT_TRUE(woken);
  EXPECT_TRUE(event_->HasAnyCandidate(address));
}

}  // namespace
}  // namespace liveorigin::core
