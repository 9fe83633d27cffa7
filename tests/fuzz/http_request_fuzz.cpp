// libFuzzer target for the HTTP request path without sockets: the input is the
// byte stream a client sends on one connection. It is read by the session's own
// RequestReader, routed by its RouteBody and framed by its FrameResponse, and
// sent through a real OriginService (in-memory store, manual clock and
// scheduler, work run inline): PUTs through BeginUpload / Append / Finish,
// everything else through Handle.
//
// A held GET does not stop the stream: the next request is treated as if it
// came on another connection, so a later PUT in the same input can release it.
// After every request the clock moves 100 ms, or the milliseconds given in an
// "X-Fuzz-Advance" request header (at most 10 minutes). At the end the
// scheduler is drained.
//
// Invariants (a violation traps): every Handle answers exactly once, by the end;
// statuses are 100..599; a response's body slice lies inside its body; JSON
// bodies parse; 206 and 416 carry Content-Range; a HEAD response sends no body
// bytes (the session sends `length` bytes unless head_length is set); nothing
// is left held or in flight at the end.
//
// To keep fuzzing past known, reported findings, LIVEORIGIN_FUZZ_SKIP takes
// comma-separated names: "head_body" turns the HEAD check off; "huge_number"
// does not send GET/HEAD of segment numbers above 10^9 (their availability
// time overflows in LiveTimeline::AvailabilityTime, a UBSan abort).
// LIVEORIGIN_FUZZ_VERBOSE=1 prints every exchange (for checking seeds).
#include <spdlog/spdlog.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "liveorigin/config/config_loader.h"
#include "liveorigin/core/event_registry.h"
#include "liveorigin/core/origin_service.h"
#include "liveorigin/core/request_target.h"
#include "liveorigin/core/scheduler.h"
#include "liveorigin/http/request_reader.h"
#include "liveorigin/http/response_head.h"
#include "memory_segment_store.h"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace core = liveorigin::core;
using namespace std::chrono_literals;
using liveorigin::ManualClock;
using liveorigin::Millis;
using liveorigin::TimePoint;

// A broken invariant is printed and aborts like a crash.
#define Check(condition) CheckAt(condition, #condition, __LINE__)
void CheckAt(bool ok, const char* what, int line) {
  if (ok) return;
  std::fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
  __builtin_trap();
}

// Both events: availability_start_time kAst, d = 2 s, pipelines a/"ta", b/"tb".
// Segment n of "ev" (start_number 1) is available at kAst + 2n s; "dash" uses
// ffmpeg's names and start_number 0.
constexpr std::string_view kEventYaml[] = {
    R"(id: ev
availability_start_time: 2023-11-14T22:13:20Z
start_number: 1
segment_duration: 2s
dvr_window: 20s
media_template: "$RepresentationID$/$Number$.m4s"
init_template: "$RepresentationID$/init.mp4"
pipelines:
  - {id: a, token: ta}
  - {id: b, token: tb}
hold: {max_wait: 3s}
preferred_grace: 500ms
ingest_ahead: 2
cache_control: {manifest_max_age: 1s}
)",
    R"(id: dash
availability_start_time: 2023-11-14T22:13:20Z
start_number: 0
segment_duration: 2s
dvr_window: 20s
media_template: "chunk-stream$RepresentationID$-$Number%05d$.m4s"
init_template: "init-stream$RepresentationID$.m4s"
pipelines:
  - {id: a, token: ta}
  - {id: b, token: tb}
)"};
const TimePoint kAst{1'700'000'000s};
// Live edge of "ev" is segment 10 at the start of every input.
const TimePoint kStart = kAst + 20s + 500ms;

constexpr uint32_t kHeaderLimit = 16 * 1024;
constexpr int64_t kMaxAdvanceMs = 600'000;

std::vector<liveorigin::config::EventConfig>* g_events = nullptr;
bool g_check_head_body = true;
bool g_skip_huge_numbers = false;
bool g_verbose = false;

// Runs scheduled functions when told to, moving the clock to each due time
// (copied from tests/unit/core/origin_service_test.cpp, plus RunNext).
class ManualScheduler final : public core::Scheduler {
 public:
  explicit ManualScheduler(ManualClock& clock) : clock_(clock) {}

  void RunAfter(Millis delay, std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    tasks_.emplace(std::make_pair(clock_.Now() + delay, next_seq_++), std::move(fn));
  }
  void AdvanceTo(TimePoint t) {
    while (RunNextDueBy(t)) {
    }
    if (t > clock_.Now()) clock_.Set(t);
  }
  void Advance(Millis d) { AdvanceTo(clock_.Now() + d); }
  // Runs the earliest function; false when there is none.
  bool RunNext() { return RunNextDueBy(TimePoint::max()); }
  void Clear() {
    std::map<std::pair<TimePoint, uint64_t>, std::function<void()>> dropped;
    std::lock_guard lock(mu_);
    dropped.swap(tasks_);
  }

 private:
  bool RunNextDueBy(TimePoint t) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mu_);
      if (tasks_.empty() || tasks_.begin()->first.first > t) return false;
      auto node = tasks_.extract(tasks_.begin());
      if (node.key().first > clock_.Now()) clock_.Set(node.key().first);
      fn = std::move(node.mapped());
    }
    fn();
    return true;
  }

  ManualClock& clock_;
  std::mutex mu_;
  std::map<std::pair<TimePoint, uint64_t>, std::function<void()>> tasks_;  // GUARDED_BY(mu_)
  uint64_t next_seq_ = 0;                                                  // GUARDED_BY(mu_)
};

core::OriginOptions Options() {
  core::OriginOptions o;
  o.max_object_size = 16 * 1024;  // the fixtures fit; fuzz inputs can exceed it
  o.max_held_requests = 8;
  o.max_inflight_requests = 4;
  o.shed_behind_segments = 3;
  return o;
}

// One origin per input, so every input runs from the same state.
struct Origin {
  std::shared_ptr<liveorigin::storage::MemorySegmentStore> store =
      std::make_shared<liveorigin::storage::MemorySegmentStore>();
  core::EventRegistry registry{store};
  core::BodyCache cache{1 << 20};
  liveorigin::metrics::OriginMetrics metrics;
  ManualClock clock{kStart};
  ManualScheduler scheduler{clock};
  core::InlineTaskRunner inline_runner;
  std::shared_ptr<core::OriginService> service = std::make_shared<core::OriginService>(
      registry, *store, cache, metrics, clock,
      core::OriginExecutors{inline_runner, inline_runner, scheduler}, Options());

  Origin() { registry.Apply(*g_events); }
  ~Origin() { scheduler.Clear(); }
};

// What the session would put on the wire for `r`, as far as the checks care.
void CheckResponse(const core::Request& request, const core::Response& r) {
  Check(r.status >= 100 && r.status <= 599);
  if (r.body) {
    Check(r.offset <= r.body->size() && r.length <= r.body->size() - r.offset);
  } else {
    Check(r.length == 0);
  }
  if (g_verbose) {
    std::fprintf(stderr, "  %s %s -> %d %.*s\n", request.method.c_str(), request.target.c_str(),
                 r.status, static_cast<int>(std::min<size_t>(r.BodyView().size(), 160)),
                 r.body ? r.BodyView().data() : "");
  }
  core::Response framed = r;
  const auto framing = liveorigin::http::FrameResponse(request, framed, true);
  if (g_check_head_body && request.method == "HEAD") Check(!framing.send_body);
  if (auto type = r.Header("Content-Type"); type && *type == "application/json" && r.body) {
    Check(nlohmann::json::accept(r.BodyView()));
  }
  const uint64_t announced = r.head_length ? *r.head_length : r.length;  // Content-Length
  if (r.status == 206) Check(r.Header("Content-Range").has_value() && announced > 0);
  if (r.status == 416) Check(r.Header("Content-Range").has_value());
}

// A GET or HEAD of a segment numbered above 10^9 (see LIVEORIGIN_FUZZ_SKIP).
bool HugeSegmentNumber(const core::Request& request) {
  if (request.method != "GET" && request.method != "HEAD") return false;
  const auto target = core::ParseRequestTarget(request.target);
  if (!target.ok()) return false;
  for (const auto& event : *g_events) {
    if (event.id != target->event) continue;
    const auto m = event.media_template.Matches(target->path);
    return m && m->number && *m->number > 1'000'000'000;
  }
  return false;
}

using Reader = liveorigin::http::RequestReader;

liveorigin::http::RequestReaderLimits ReaderLimits() {
  liveorigin::http::RequestReaderLimits l;
  l.max_header_size = kHeaderLimit;
  l.max_small_body = core::RequestHandler::kSmallBodyLimit;
  l.max_discard_bytes = 1 << 20;
  return l;
}

// One request and its answer, which may come later (held GETs).
struct Exchange {
  core::Request request;
  int calls = 0;
};

class Connection {
 public:
  explicit Connection(Origin& origin) : origin_(origin) {}

  // Feeds the whole input; returns when it is used up or the connection closes.
  void Run(std::string_view input) {
    rest_ = input;
    while (!rest_.empty() && ReadRequest()) {
      Advance();
    }
  }

  // Drains the scheduler and checks that every request was answered once.
  void Finish() {
    for (int i = 0; i < 100000 && origin_.scheduler.RunNext(); ++i) {
    }
    Check(!origin_.scheduler.RunNext());  // nothing reschedules itself forever
    for (const auto& e : handled_) Check(e->calls == 1);
    Check(origin_.service->overload().held() == 0);
    Check(origin_.service->inflight() == 0);
  }

 private:
  void Advance() {
    int64_t ms = 100;
    if (auto h = request_.Header("X-Fuzz-Advance")) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(h->data(), h->data() + h->size(), v);
      if (ec == std::errc() && v >= 0) ms = std::min(v, kMaxAdvanceMs);
    }
    origin_.scheduler.Advance(Millis(ms));
  }

  // Sends a response the session made itself or got synchronously; false when
  // the connection closes after it.
  bool Respond(core::Response r) {
    origin_.service->Decorate(request_, &r);
    CheckResponse(request_, r);
    origin_.service->OnResponseSent(request_, r, 0.0);
    return !r.close && keep_alive_;
  }

  // The service runs its work inline here: the answer arrives during Finish.
  static core::Response FinishUpload(core::UploadSink& sink) {
    std::optional<core::Response> answer;
    sink.Finish([&answer](core::Response r) { answer = std::move(r); });
    Check(answer.has_value());
    return std::move(*answer);
  }

  bool Fail(int status, std::string_view code, std::string message) {
    core::Response r = core::Response::Error(status, code, message);
    r.close = true;
    return Respond(std::move(r));
  }

  // One request, read by the session's own RequestReader and routed by its
  // RouteBody; false when the connection is done.
  bool ReadRequest() {
    reader_.Start();
    request_ = core::Request{};
    keep_alive_ = true;
    std::unique_ptr<core::UploadSink> sink;
    std::optional<core::Response> pending;
    for (;;) {
      size_t used = 0;
      auto event =
          rest_.empty() && !reader_.message_done() ? reader_.FeedEof() : reader_.Feed(rest_, &used);
      Check(used <= rest_.size());
      switch (event) {
        case Reader::Event::kNeedMore:
          rest_.remove_prefix(used);
          if (rest_.empty() || used == 0) {
            // Every byte the client sent is here; what is missing never comes.
            if (sink) sink->Abort("connection lost during body");
            return false;
          }
          continue;
        case Reader::Event::kHead:
          rest_.remove_prefix(used);
          request_ = reader_.request();
          request_.remote = "192.0.2.1:40000";
          reader_.request().remote = request_.remote;
          keep_alive_ = reader_.keep_alive();
          liveorigin::http::RouteBody(*origin_.service, reader_, &sink, &pending);
          if (pending) Check(pending->status >= 400);
          if (reader_.expects_continue() && !reader_.message_done() && pending) {
            pending->close = true;
            return Respond(std::move(*pending));
          }
          continue;
        case Reader::Event::kBody:
          for (auto piece : reader_.body()) {
            if (!sink->Append(piece)) {
              reader_.SetBodyMode(liveorigin::http::BodyMode::kDiscard);
              break;
            }
          }
          rest_.remove_prefix(used);
          continue;
        case Reader::Event::kDiscardLimit:
          rest_.remove_prefix(used);
          if (sink) {
            core::Response r = FinishUpload(*sink);
            r.close = true;
            return Respond(std::move(r));
          }
          if (!pending) pending = core::Response::Error(413, "too_large", "request body too large");
          pending->close = true;
          return Respond(std::move(*pending));
        case Reader::Event::kError:
          if (sink) sink->Abort(reader_.failure().message);
          Fail(reader_.failure().status, reader_.failure().code, reader_.failure().message);
          return false;
        case Reader::Event::kComplete:
          rest_.remove_prefix(used);
          break;
      }
      break;
    }
    if (!reader_.head_done()) return false;  // EOF with nothing pending
    request_ = reader_.request();
    if (sink) return Respond(FinishUpload(*sink));
    if (pending) return Respond(std::move(*pending));
    if (reader_.small_body_too_large()) {
      return Respond(core::Response::Error(413, "too_large", "request body too large"));
    }

    if (g_skip_huge_numbers && HugeSegmentNumber(request_)) return keep_alive_;

    auto exchange = std::make_shared<Exchange>();
    exchange->request = request_;
    handled_.push_back(exchange);
    bool answered_now = false;
    bool keep_open = true;
    const bool keep_alive = keep_alive_;
    Origin& origin = origin_;
    origin_.service->Handle(request_, [&answered_now, &keep_open, exchange, keep_alive, &origin,
                                       live = alive_](core::Response r) {
      ++exchange->calls;
      Check(exchange->calls == 1);
      origin.service->Decorate(exchange->request, &r);
      CheckResponse(exchange->request, r);
      origin.service->OnResponseSent(exchange->request, r, 0.0);
      if (*live) {  // still inside Handle: the answer decides the connection
        answered_now = true;
        keep_open = !r.close && keep_alive;
      }
    });
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
    // Answered later: the stream goes on as if on another connection.
    return answered_now ? keep_open : true;
  }

  Origin& origin_;
  Reader reader_{ReaderLimits()};
  std::string_view rest_;
  core::Request request_;
  bool keep_alive_ = true;
  std::vector<std::shared_ptr<Exchange>> handled_;
  // True while the current Handle call is on the stack.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  if (const char* skip = std::getenv("LIVEORIGIN_FUZZ_SKIP")) {
    g_check_head_body = std::string_view(skip).find("head_body") == std::string_view::npos;
    g_skip_huge_numbers = std::string_view(skip).find("huge_number") != std::string_view::npos;
  }
  if (const char* v = std::getenv("LIVEORIGIN_FUZZ_VERBOSE")) g_verbose = *v && *v != '0';
  g_events = new std::vector<liveorigin::config::EventConfig>();
  for (std::string_view yaml : kEventYaml) {
    liveorigin::config::EventConfig event;
    std::vector<liveorigin::config::ConfigError> errors;
    if (!liveorigin::config::ParseEventConfig(yaml, "fuzz-event.yaml", &event, &errors)) {
      for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
      std::abort();
    }
    g_events->push_back(std::move(event));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Origin origin;
  Connection connection(origin);
  connection.Run(std::string_view(reinterpret_cast<const char*>(data), size));
  connection.Finish();
  return 0;
}
