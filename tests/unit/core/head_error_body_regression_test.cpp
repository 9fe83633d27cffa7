// Regression (found by tests/fuzz/http_request_fuzz, minimized input
// "HEAD e HTTP/1.1\r\n\r\n"): error answers to HEAD carried their JSON body.
// The session sends `length` body bytes unless `head_length` is set, so a
// HEAD refused with 400/404/410/416 put a body on the wire that the client
// does not expect, and on a keep-alive connection those bytes were read as
// the start of the next response.
//
// Contract (http_message.h): a HEAD answer announces its length through
// head_length and sends no body. Statuses that never have a body (1xx, 204,
// 304) are exempt.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <vector>

#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/origin_service.h"
#include "liveorigin/core/scheduler.h"
#include "liveorigin/http/response_head.h"
#include "memory_segment_store.h"

namespace liveorigin::core {
namespace {

using namespace std::chrono_literals;

// Keeps scheduled functions without running them: nothing here is held.
class IdleScheduler final : public Scheduler {
 public:
  void RunAfter(Millis, std::function<void()> fn) override { tasks_.push_back(std::move(fn)); }

 private:
  std::vector<std::function<void()>> tasks_;
};

const TimePoint kAst = TimePoint(1'700'000'000s);

class HeadErrorBodyRegressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::EventConfig cfg;
    cfg.id = "ev";
    cfg.availability_start_time = kAst;
    cfg.start_number = 1;
    cfg.segment_duration = 2s;
    cfg.dvr_window = 20s;
    cfg.media_template =
        config::SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value();
    cfg.init_template = config::SegmentTemplate::Compile("$RepresentationID$/init.mp4").value();
    cfg.pipelines = {{"a", std::nullopt}};
    registry_.Apply({cfg});
    clock_.Set(kAst + 60s);  // live edge: segment 30; the DVR window starts at 20
  }

  Response Send(const std::string& method, const std::string& target,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req;
    req.method = method;
    req.target = target;
    req.headers = std::move(headers);
    std::optional<Response> answer;
    service_.Handle(std::move(req), [&answer](Response r) { answer = std::move(r); });
    EXPECT_TRUE(answer.has_value()) << method << " " << target << " was not answered at once";
    return answer.value_or(Response{});
  }

  // Body bytes the session writes for `r` in answer to a HEAD: the framing
  // rule the session itself runs.
  static uint64_t BodyBytesOnTheWire(Response r) {
    Request head;
    head.method = "HEAD";
    const http::ResponseFraming f = http::FrameResponse(head, r, true);
    return f.send_body ? r.length : 0;
  }

  std::shared_ptr<storage::MemorySegmentStore> store_ =
      std::make_shared<storage::MemorySegmentStore>();
  EventRegistry registry_{store_};
  BodyCache cache_{1 << 20};
  metrics::OriginMetrics metrics_;
  ManualClock clock_{kAst};
  IdleScheduler scheduler_;
  InlineTaskRunner inline_;
  std::shared_ptr<OriginService> service_ptr_ = std::make_shared<OriginService>(
      registry_, *store_, cache_, metrics_, clock_, OriginExecutors{inline_, inline_, scheduler_},
      OriginOptions{});
  OriginService& service_ = *service_ptr_;
};

TEST_F(HeadErrorBodyRegressionTest, HeadErrorsSendNoBody) {
  struct Case {
    std::string target;
    int status;
  };
  const Case cases[] = {
      {"e", 400},                 // the minimized fuzz input: not an absolute path
      {"/ev/../x", 400},          // refused target
      {"/nope/v/1.m4s", 404},     // unknown event
      {"/ev", 404},               // no object named
      {"/ev/v/99.m4s", 404},      // beyond the hold window
      {"/ev/v/1.m4s", 410},       // left the DVR window
      {"/ev/manifest.mpd", 404},  // never delivered
  };
  for (const Case& c : cases) {
    const Response get = Send("GET", c.target);
    ASSERT_EQ(get.status, c.status) << c.target;
    ASSERT_GT(get.length, 0u) << "GET " << c.target << " explains itself in a body";

    const Response head = Send("HEAD", c.target);
    EXPECT_EQ(head.status, c.status) << c.target;
    EXPECT_EQ(BodyBytesOnTheWire(head), 0u) << "HEAD " << c.target << " sent a body";
    EXPECT_EQ(head.head_length.value_or(0), get.length)
        << "HEAD " << c.target << " announces the length GET would send";
  }
}

TEST_F(HeadErrorBodyRegressionTest, HeadRangeNotSatisfiableSendsNoBody) {
  clock_.Set(kAst + 60s);
  Request put;
  put.method = "PUT";
  put.target = "/ev/manifest.mpd";
  Response refusal;
  auto sink = service_.BeginUpload(put, &refusal);
  ASSERT_TRUE(sink) << refusal.status << " " << refusal.BodyView();
  ASSERT_TRUE(sink->Append("<MPD/>"));
  std::optional<Response> stored;
  sink->Finish([&stored](Response r) { stored = std::move(r); });
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->status, 201);
  sink.reset();

  const Response head = Send("HEAD", "/ev/manifest.mpd", {{"Range", "bytes=100-"}});
  EXPECT_EQ(head.status, 416);
  EXPECT_EQ(BodyBytesOnTheWire(head), 0u);
}

}  // namespace
}  // namespace liveorigin::core
