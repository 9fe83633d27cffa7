#include "liveorigin/core/origin_service.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>

#include "liveorigin/common/units.h"
#include "liveorigin/core/defects.h"
#include "liveorigin/core/log_limiter.h"
#include "liveorigin/core/pipeline_auth.h"
#include "liveorigin/core/request_target.h"
#include "liveorigin/core/upload_body.h"
#include "liveorigin/core/well_known_time.h"

namespace liveorigin::core {

using storage::CandidateRecord;
using storage::ObjectKind;

namespace {

// Whole seconds, rounded up, at least `floor`.
int64_t CeilSeconds(TimePoint::duration d, int64_t floor = 1) {
  const double s = std::chrono::duration<double>(d).count();
  return std::max<int64_t>(floor, static_cast<int64_t>(std::ceil(s - 1e-9)));
}

std::string MaxAge(int64_t seconds) { return "public, max-age=" + std::to_string(seconds); }

Response NotFound(std::string_view message, int64_t max_age) {
  Response r = Response::Error(404, "not_found", message);
  r.SetHeader("Cache-Control", MaxAge(max_age));
  return r;
}

bool ETagMatches(std::string_view header, const std::string& etag) {
  // If-None-Match: "a", W/"b", *
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "*") return true;
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item.size() == etag.size() + 2 && item.front() == '"' && item.back() == '"' &&
        item.substr(1, etag.size()) == etag) {
      return true;
    }
  }
  return false;
}

struct ByteRange {
  uint64_t first = 0, last = 0;
};
enum class RangeParse { kNone, kOk, kUnsatisfiable };

// A single "bytes=a-b", "bytes=a-" or "bytes=-n". Anything else (multiple
// ranges, other units, bad syntax) is ignored: the whole object is served.
RangeParse ParseRange(std::string_view header, uint64_t size, ByteRange* out) {
  if (header.substr(0, 6) != "bytes=") return RangeParse::kNone;
  header.remove_prefix(6);
  if (header.find(',') != std::string_view::npos) return RangeParse::kNone;
  const size_t dash = header.find('-');
  if (dash == std::string_view::npos) return RangeParse::kNone;
  const std::string_view a = header.substr(0, dash), b = header.substr(dash + 1);
  auto parse = [](std::string_view s, uint64_t* v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  uint64_t x = 0, y = 0;
  if (a.empty()) {
    if (!parse(b, &y)) return RangeParse::kNone;
    if (y == 0 || size == 0) return RangeParse::kUnsatisfiable;
    out->first = y >= size ? 0 : size - y;
    out->last = size - 1;
    return RangeParse::kOk;
  }
  if (!parse(a, &x)) return RangeParse::kNone;
  if (b.empty()) {
    y = size ? size - 1 : 0;
  } else if (!parse(b, &y) || y < x) {
    return RangeParse::kNone;
  }
  if (x >= size) return RangeParse::kUnsatisfiable;
  out->first = x;
  out->last = std::min(y, size - 1);
  return RangeParse::kOk;
}

}  // namespace

std::string BodyCacheKey(const CandidateRecord& r) {
  std::string key = r.id.event;
  key.push_back('\0');
  key += r.id.pipeline;
  key.push_back('\0');
  key += r.id.path;
  key.push_back('\0');
  key += r.etag;
  return key;
}

// ---------------------------------------------------------------------------
// Upload: one PUT body on its way in.

class OriginService::Upload final : public UploadSink {
 public:
  Upload(OriginService& service, Request request, std::shared_ptr<LiveEvent> event,
         ObjectAddress address, std::string pipeline, std::vector<std::string> header_defects,
         UploadBodyOptions body_options)
      : service_(service),
        request_(std::move(request)),
        event_(std::move(event)),
        address_(std::move(address)),
        pipeline_(std::move(pipeline)),
        header_defects_(std::move(header_defects)),
        body_(std::move(body_options)) {}
  ~Upload() override { --service_.inflight_; }

  // Digest checking, gzip decoding and the size limit live in UploadBody.
  bool Append(std::string_view bytes) override {
    if (!first_byte_ && !bytes.empty()) first_byte_ = service_.clock_.Now();  // CMSD `at`
    return body_.Append(bytes);
  }

  Response Finish() override { return service_.FinishUpload(*this); }

  void Abort(std::string_view reason) override {
    spdlog::warn("{} /{}/{} from {} ({}) aborted after {} bytes: {}; nothing stored",
                 request_.method, event_->config()->id, address_.path, pipeline_, request_.remote,
                 body_.received(), reason);
    service_.metrics_.PutRefused(event_->config()->id, "aborted");
  }

 private:
  friend class OriginService;
  OriginService& service_;
  Request request_;
  std::shared_ptr<LiveEvent> event_;
  ObjectAddress address_;
  std::string pipeline_;
  std::vector<std::string> header_defects_;
  UploadBody body_;
  std::optional<TimePoint> first_byte_;
};

// ---------------------------------------------------------------------------
// HeldRequest: a GET waiting at the live edge for its segment.

class OriginService::HeldRequest final : public std::enable_shared_from_this<HeldRequest> {
 public:
  HeldRequest(OriginService& service, Request request, std::shared_ptr<LiveEvent> event,
              ObjectAddress address, Respond respond, TimePoint start, TimePoint deadline)
      : service_(service),
        request_(std::move(request)),
        event_(std::move(event)),
        address_(std::move(address)),
        respond_(std::move(respond)),
        start_(start),
        deadline_(deadline) {}

  void Start() {
    service_.metrics_.HeldStarted();
    auto self = shared_from_this();
    service_.scheduler_.RunAfter(std::chrono::duration_cast<Millis>(deadline_ - start_) + Millis(1),
                                 [self] { self->Timeout(); });
    Recheck();  // arms the waiter; the candidate may also have arrived meanwhile
  }

 private:
  // At most one waiter is registered at a time. Waiters are one-shot: the
  // event drops it when it fires, so OnWake forgets its id before rechecking.
  void Arm() {
    auto self = shared_from_this();
    std::lock_guard lock(mu_);
    if (waiter_id_ != 0 || done_.load()) return;
    waiter_id_ =
        event_->AddWaiter(address_.rendition, *address_.number, [self] { self->OnWake(); });
  }

  void OnWake() {
    {
      std::lock_guard lock(mu_);
      waiter_id_ = 0;
    }
    Recheck();
  }

  void ScheduleRecheck(TimePoint at) {
    {
      std::lock_guard lock(mu_);
      if (recheck_at_ == at) return;  // already scheduled for that instant
      recheck_at_ = at;
    }
    auto self = shared_from_this();
    const auto delay = std::chrono::duration_cast<Millis>(at - service_.clock_.Now()) + Millis(1);
    service_.scheduler_.RunAfter(std::max(Millis(0), delay), [self] { self->Recheck(); });
  }

  void Recheck() {
    if (done_.load()) return;
    const TimePoint now = service_.clock_.Now();
    Resolution res = event_->Resolve(address_, now);
    if (res.selection_changed)
      service_.metrics_.Selection(res.record.id.event, res.record.id.pipeline);
    if (res.storage_error) service_.metrics_.StorageError("selection");
    if (res.outcome == Selection::Outcome::kServe) {
      if (done_.exchange(true)) return;
      Disarm();
      Response r = service_.Serve(request_, *event_, res.record, now);
      r.SetHeader("X-Live-Held-Ms",
                  std::to_string(std::chrono::duration_cast<Millis>(now - start_).count()));
      service_.metrics_.HeldFinished("released");
      respond_(std::move(r));
      return;
    }
    Arm();
    if (res.outcome == Selection::Outcome::kWait) ScheduleRecheck(res.wait_until);
  }

  void Timeout() {
    if (done_.exchange(true)) return;
    Disarm();
    service_.metrics_.HeldFinished("timeout");
    Response r = NotFound("segment was not delivered within hold.max_wait", 1);
    r.SetHeader(
        "X-Live-Held-Ms",
        std::to_string(std::chrono::duration_cast<Millis>(service_.clock_.Now() - start_).count()));
    respond_(std::move(r));
  }

  void Disarm() {
    std::lock_guard lock(mu_);
    if (waiter_id_) event_->RemoveWaiter(address_.rendition, *address_.number, waiter_id_);
    waiter_id_ = 0;
  }

  OriginService& service_;
  Request request_;
  std::shared_ptr<LiveEvent> event_;
  ObjectAddress address_;
  Respond respond_;
  TimePoint start_, deadline_;
  std::atomic<bool> done_{false};
  std::mutex mu_;
  uint64_t waiter_id_ = 0;               // GUARDED_BY(mu_)
  std::optional<TimePoint> recheck_at_;  // GUARDED_BY(mu_)
};

// ---------------------------------------------------------------------------

OriginService::OriginService(EventRegistry& registry, storage::SegmentStore& store,
                             BodyCache& cache, metrics::OriginMetrics& metrics, const Clock& clock,
                             Scheduler& scheduler, OriginOptions options)
    : registry_(registry),
      store_(store),
      cache_(cache),
      metrics_(metrics),
      clock_(clock),
      scheduler_(scheduler),
      options_(options),
      cors_(options_.cors_allow_origins),
      delivery_(options_.node_name) {}

OriginService::~OriginService() = default;

void OriginService::Handle(Request request, Respond respond) {
  if (request.method == "GET" || request.method == "HEAD") {
    ++inflight_;
    const bool head = request.method == "HEAD";
    HandleGet(std::move(request), [this, head, respond = std::move(respond)](Response r) {
      --inflight_;
      if (head) r.ToHeadResponse();
      respond(std::move(r));
    });
    return;
  }
  if (request.method == "DELETE") {
    HandleDelete(request, std::move(respond));
    return;
  }
  if (request.method == "OPTIONS") {  // CORS preflight (SPEC §11)
    respond(cors_.Preflight(request));
    return;
  }
  Response r = Response::Error(405, "method_not_allowed",
                               "method " + request.method +
                                   " is not supported; use GET, HEAD, "
                                   "PUT, POST, DELETE or OPTIONS");
  r.SetHeader("Allow", CorsPolicy::kAllowMethods);
  respond(std::move(r));
}

// DASH-IF ingest sources POST as often as they PUT (SPEC §11).
bool OriginService::IsUpload(std::string_view method) const {
  return method == "PUT" || method == "POST";
}

// Every answer of the main listener: CORS; delivery answers: CMSD-Dynamic,
// with `du` while the live edge is being protected (SPEC §5.4, §11).
void OriginService::Decorate(const Request& request, Response* response) {
  cors_.Apply(request, response);
  // A GET has left inflight_ by now: counting it again, this is the test that
  // sheds far-behind segments in GetSegment.
  const bool duress =
      options_.max_inflight_requests && inflight_.load() + 1 > options_.max_inflight_requests;
  delivery_.ApplyDynamic(request, duress, response);
}

Response OriginService::Refuse(const Request& request, std::string_view event, std::string_view who,
                               int status, std::string_view code, std::string_view message) {
  uint64_t suppressed = 0;
  if (LogLimiter::Shared().Allow(std::string(event) + '|' + std::string(code), &suppressed)) {
    spdlog::warn("{} {} refused {} ({}): {} from {}{}{}", request.method, request.target, status,
                 code, message, request.remote, who.empty() ? "" : " as " + std::string(who),
                 suppressed ? " (" + std::to_string(suppressed) + " similar refusals not logged)"
                            : std::string());
  }
  if (IsUpload(request.method)) metrics_.PutRefused(event, code);
  Response r = Response::Error(status, code, message);
  if (status == 401) r.SetHeader("WWW-Authenticate", "Basic realm=\"liveorigin\"");
  if (status == 503) r.SetHeader("Retry-After", "1");
  return r;
}

std::unique_ptr<UploadSink> OriginService::BeginUpload(const Request& request, Response* refusal) {
  auto target = ParseRequestTarget(request.target);
  if (!target.ok()) {
    *refusal = Refuse(request, "", "", 400, "bad_request", target.status().message());
    return nullptr;
  }
  auto event = registry_.Find(target->event);
  if (!event) {
    *refusal = Refuse(request, "", "", 404, "unknown_event",
                      "no event '" + target->event + "' is configured");
    return nullptr;
  }
  const auto cfg = event->config();
  if (target->path.empty()) {
    *refusal = Refuse(request, cfg->id, "", 400, "bad_request",
                      "PUT needs an object path below the event, e.g. /" + cfg->id + "/v1/1.m4s");
    return nullptr;
  }
  const AuthOutcome auth = IdentifyPipeline(*cfg, request);
  if (auth.status != 0) {
    *refusal = Refuse(request, cfg->id, "", auth.status,
                      auth.status == 401 ? "unauthorized" : "forbidden", auth.message);
    return nullptr;
  }
  auto address = event->Classify(target->path);
  if (!address) {
    *refusal = Refuse(request, cfg->id, auth.pipeline, 400, "bad_request",
                      "segment number is not in the form media_template '" +
                          cfg->media_template.pattern() + "' renders (check zero padding)");
    return nullptr;
  }
  if (draining_.load()) {
    *refusal = Refuse(request, cfg->id, auth.pipeline, 503, "shutting_down",
                      "the origin is shutting down");
    return nullptr;
  }
  if (request.content_length && *request.content_length > options_.max_object_size) {
    *refusal = Refuse(request, cfg->id, auth.pipeline, 413, "too_large",
                      "body of " + std::to_string(*request.content_length) +
                          " bytes exceeds max_object_size (" +
                          std::to_string(options_.max_object_size) + " bytes)");
    return nullptr;
  }
  // Content coding and Content-Digest are decided here, before any
  // 100 Continue (SPEC §11).
  UploadBodyOptions body_options;
  body_options.max_size = options_.max_object_size;
  body_options.reserve = request.content_length.value_or(0);
  if (auto coding = ParseContentEncoding(request.Header("Content-Encoding")); !coding.ok()) {
    *refusal = Refuse(request, cfg->id, auth.pipeline, 415, "unsupported_encoding",
                      coding.status().message());
    refusal->SetHeader("Accept-Encoding", "gzip");
    return nullptr;
  } else {
    body_options.coding = *coding;
  }
  if (auto digest = request.Header("Content-Digest")) {
    auto parsed = ParseDigestField(*digest);
    if (!parsed.ok()) {
      *refusal = Refuse(request, cfg->id, auth.pipeline, 400, "bad_digest",
                        "Content-Digest: " + parsed.status().message());
      return nullptr;
    }
    body_options.digests = std::move(parsed).value();
  }
  if (address->number) {
    const LiveTimeline tl(*cfg);
    const TimePoint now = clock_.Now();
    const auto edge = tl.LiveEdge(now);
    const uint64_t first = tl.FirstInWindow(now);
    const int64_t last =
        (edge ? static_cast<int64_t>(*edge) : static_cast<int64_t>(tl.start_number()) - 1) +
        static_cast<int64_t>(cfg->ingest_ahead);
    const uint64_t n = *address->number;
    if (n < first || static_cast<int64_t>(n) > last) {
      *refusal = Refuse(
          request, cfg->id, auth.pipeline, 409, "out_of_window",
          "segment " + std::to_string(n) + " is outside the accepted range [" +
              std::to_string(first) + ", " + std::to_string(std::max<int64_t>(last, -1)) +
              "] (live edge " + (edge ? std::to_string(*edge) : std::string("not reached")) +
              ", dvr_window " + FormatDuration(cfg->dvr_window) + ", ingest_ahead " +
              std::to_string(cfg->ingest_ahead) + "); check the packager's clock and numbering");
      return nullptr;
    }
  }
  std::vector<std::string> defects;
  if (auto h = request.Header("X-Live-Defects")) defects = ParseDefectHeader(*h);
  ++inflight_;
  return std::make_unique<Upload>(*this, request, std::move(event), std::move(*address),
                                  auth.pipeline, std::move(defects), std::move(body_options));
}

Response OriginService::FinishUpload(Upload& up) {
  const auto cfg = up.event_->config();
  // SPEC §11: size limit on the decoded body, gzip errors, Content-Digest.
  const UploadBody::Verdict verdict = up.body_.Finish();
  switch (verdict.outcome) {
    case UploadBody::Outcome::kOk:
      break;
    case UploadBody::Outcome::kTooLarge:
      return Refuse(up.request_, cfg->id, up.pipeline_, 413, "too_large", verdict.message);
    case UploadBody::Outcome::kBadEncoding:
      return Refuse(up.request_, cfg->id, up.pipeline_, 400, "bad_encoding", verdict.message);
    case UploadBody::Outcome::kDigestMismatch:
      return Refuse(up.request_, cfg->id, up.pipeline_, 400, "digest_mismatch",
                    verdict.message + "; nothing was stored");
  }
  if (up.body_.empty_as_sent()) {
    // The connection probe of DASH-IF ingest sources: nothing is stored.
    spdlog::debug("{} {} from {}: empty probe answered 200", up.request_.method, up.request_.target,
                  up.pipeline_);
    Response probe;
    probe.status = 200;
    probe.SetHeader("X-Live-Pipeline", up.pipeline_);
    return probe;
  }
  IngestMeta meta;
  meta.first_byte = up.first_byte_;
  meta.sha256 = up.body_.known_sha256();
  auto body = std::make_shared<const std::string>(up.body_.TakeBody());
  const TimePoint now = clock_.Now();
  IngestResult result =
      up.event_->Ingest(up.address_, up.pipeline_, body, up.header_defects_,
                        up.request_.Header("Content-Type").value_or(""), now, meta);
  if (!result.status.ok()) {
    metrics_.StorageError("put");
    const bool full = result.status.IsNoSpace();
    spdlog::error("PUT /{}/{} from {}: storage failed: {}", cfg->id, up.address_.path, up.pipeline_,
                  result.status.ToString());
    return Refuse(up.request_, cfg->id, up.pipeline_, full ? 507 : 503,
                  full ? "insufficient_storage" : "storage_unavailable",
                  full ? "the origin's disk is full; nothing was stored"
                       : "the origin could not store the object; nothing was stored");
  }
  if (result.outcome == IngestOutcome::kConflict) {
    return Refuse(up.request_, cfg->id, up.pipeline_, 409, "already_served",
                  "this pipeline's candidate was already served to viewers and its bytes differ; "
                  "served bytes never change (ETag \"" +
                      result.record.etag + "\" kept)");
  }
  Response r;
  r.status = result.outcome == IngestOutcome::kCreated ? 201 : 204;
  r.SetHeader("ETag", "\"" + result.record.etag + "\"");
  r.SetHeader("X-Live-Pipeline", up.pipeline_);
  if (result.outcome == IngestOutcome::kIdentical) return r;

  metrics_.BytesIn(cfg->id, up.pipeline_, body->size());
  cache_.Put(BodyCacheKey(result.record), body);
  const auto defects = result.record.AllDefects();
  for (const auto& d : defects) metrics_.Defect(cfg->id, up.pipeline_, d);
  uint64_t suppressed = 0;
  if (!defects.empty()) r.SetHeader("X-Live-Defects", JoinDefects(defects));
  if (!defects.empty() &&
      LogLimiter::Shared().Allow(cfg->id + "|defects|" + up.pipeline_, &suppressed)) {
    spdlog::warn("event {}: {} from {} has defects: {}{}{}", cfg->id, up.address_.path,
                 up.pipeline_, JoinDefects(defects),
                 result.record.inspection_note.empty() ? "" : " — ", result.record.inspection_note);
  } else {
    spdlog::debug("event {}: stored {} from {} ({} bytes)", cfg->id, up.address_.path, up.pipeline_,
                  body->size());
  }
  return r;
}

void OriginService::HandleDelete(const Request& request, Respond respond) {
  auto target = ParseRequestTarget(request.target);
  if (!target.ok()) {
    respond(Refuse(request, "", "", 400, "bad_request", target.status().message()));
    return;
  }
  auto event = registry_.Find(target->event);
  if (!event) {
    respond(Refuse(request, "", "", 404, "unknown_event",
                   "no event '" + target->event + "' is configured"));
    return;
  }
  const AuthOutcome auth = IdentifyPipeline(*event->config(), request);
  if (auth.status != 0) {
    respond(Refuse(request, target->event, "", auth.status,
                   auth.status == 401 ? "unauthorized" : "forbidden", auth.message));
    return;
  }
  // Retention is the origin's job (SPEC §4.5): acknowledge, keep the object.
  spdlog::debug("DELETE {} from {} acknowledged; retention is managed by the origin",
                request.target, auth.pipeline);
  Response r;
  r.status = 204;
  respond(std::move(r));
}

void OriginService::HandleGet(Request request, Respond respond) {
  if (IsTimeTarget(request.target)) {  // UTCTiming source (SPEC §11)
    respond(TimeResponse(clock_.Now()));
    return;
  }
  auto target = ParseRequestTarget(request.target);
  if (!target.ok()) {
    respond(Response::Error(400, "bad_request", target.status().message()));
    return;
  }
  auto event = registry_.Find(target->event);
  if (!event) {
    respond(NotFound("no event '" + target->event + "' is configured", 1));
    return;
  }
  if (target->path.empty()) {
    respond(NotFound("no object named; GET /" + target->event + "/<path>", 1));
    return;
  }
  auto address = event->Classify(target->path);
  if (!address) {
    respond(NotFound("segment number is not in the form the media template renders", 60));
    return;
  }
  if (address->number) {
    GetSegment(request, event, *address, std::move(respond));
    return;
  }
  const TimePoint now = clock_.Now();
  Resolution res = event->Resolve(*address, now);
  if (res.outcome != Selection::Outcome::kServe) {
    respond(NotFound("no pipeline has delivered this object", 1));
    return;
  }
  respond(Serve(request, *event, res.record, now));
}

void OriginService::GetSegment(const Request& request, const std::shared_ptr<LiveEvent>& event,
                               const ObjectAddress& address, Respond respond) {
  const auto cfg = event->config();
  const LiveTimeline tl(*cfg);
  const TimePoint now = clock_.Now();
  const uint64_t n = *address.number;
  if (n < tl.start_number()) {
    respond(NotFound("segment number is before the event's start_number", 60));
    return;
  }
  const TimePoint available = tl.AvailabilityTime(n);
  // Further ahead than the hold window: answer at once, no storage read.
  if (available > now + cfg->segment_duration) {
    respond(NotFound("segment is not available yet", CeilSeconds(available - now)));
    return;
  }
  const auto edge = tl.LiveEdge(now);
  if (n < tl.FirstInWindow(now)) {
    Response r = Response::Error(410, "gone", "segment has left the DVR window");
    r.SetHeader("Cache-Control", MaxAge(CeilSeconds(cfg->dvr_window)));
    respond(std::move(r));
    return;
  }
  if (edge && options_.max_inflight_requests && inflight_.load() > options_.max_inflight_requests &&
      n + options_.shed_behind_segments < *edge) {
    metrics_.Shed(cfg->id);
    Response r =
        Response::Error(503, "overloaded", "the origin is protecting the live edge; retry later");
    r.SetHeader("Cache-Control", "public, max-age=5");
    r.SetHeader("Retry-After", "5");
    r.cmsd_dynamic = true;  // with `du`: the node is shedding (SPEC §11)
    respond(std::move(r));
    return;
  }
  Resolution res = event->Resolve(address, now);
  if (res.selection_changed) metrics_.Selection(cfg->id, res.record.id.pipeline);
  if (res.storage_error) metrics_.StorageError("selection");
  if (res.outcome == Selection::Outcome::kServe) {
    respond(Serve(request, *event, res.record, now));
    return;
  }
  const bool in_hold_window = now < available + cfg->hold_max_wait;
  if (!in_hold_window && res.outcome == Selection::Outcome::kNone) {
    respond(NotFound("no pipeline delivered this segment", 1));
    return;
  }
  if (cfg->hold_max_wait.count() == 0 && res.outcome == Selection::Outcome::kNone) {
    respond(NotFound("segment is not available yet", 1));
    return;
  }
  if (metrics_.held_now() >= static_cast<int64_t>(options_.max_held_requests)) {
    metrics_.Shed(cfg->id);
    Response r = Response::Error(503, "too_many_held_requests",
                                 "too many requests are waiting at the live edge");
    r.SetHeader("Cache-Control", "public, max-age=1");
    r.SetHeader("Retry-After", "1");
    respond(std::move(r));
    return;
  }
  TimePoint deadline = now + cfg->hold_max_wait;
  if (res.outcome == Selection::Outcome::kWait && res.wait_until > deadline) {
    deadline = res.wait_until;  // never time out before the grace decision
  }
  auto held = std::make_shared<HeldRequest>(*this, request, event, address, std::move(respond), now,
                                            deadline);
  held->Start();
}

std::string OriginService::CacheControlFor(const LiveEvent& event, const CandidateRecord& record,
                                           TimePoint now) const {
  const auto cfg = event.config();
  switch (record.kind) {
    case ObjectKind::kSegment: {
      if (!record.AllDefects().empty()) return MaxAge(CeilSeconds(cfg->segment_duration));
      // Segment n answers 410 once the live edge passes n + dvr_window/d, i.e. at
      // availability(n) + dvr_window + d.
      const TimePoint leaves = LiveTimeline(*cfg).AvailabilityTime(*record.id.number) +
                               cfg->dvr_window + cfg->segment_duration;
      return MaxAge(CeilSeconds(leaves - now));
    }
    case ObjectKind::kInit:
      return MaxAge(CeilSeconds(cfg->dvr_window));
    case ObjectKind::kOther:
      return MaxAge(CeilSeconds(cfg->manifest_max_age, 0));
  }
  return MaxAge(1);
}

Response OriginService::Serve(const Request& request, const LiveEvent& event,
                              const CandidateRecord& record, TimePoint now) {
  const std::string cache_key = BodyCacheKey(record);
  auto body = cache_.GetOrLoad(cache_key, [&] { return store_.GetBody(record.id); });
  if (!body.ok()) {
    metrics_.StorageError("get");
    spdlog::error("GET {}: cannot read candidate from {}: {}", request.target, record.id.pipeline,
                  body.status().ToString());
    Response r = Response::Error(503, "storage_unavailable", "the object could not be read");
    r.SetHeader("Retry-After", "1");
    return r;
  }
  const std::string etag = "\"" + record.etag + "\"";
  Response r;
  r.headers.reserve(16);  // every header of a delivery answer, CORS and CMSD included
  // CMSD-Static and Repr-Digest, built once per candidate (SPEC §11).
  delivery_.Apply(request, event.config(), record, cache_key, **body, &r);
  r.SetHeader("Content-Type", record.content_type);
  r.SetHeader("ETag", etag);
  r.SetHeader("Last-Modified", FormatHttpDate(FromUnixMillis(record.ingest_unix_ms)));
  r.SetHeader("Cache-Control", CacheControlFor(event, record, now));
  r.SetHeader("X-Live-Pipeline", record.id.pipeline);
  const auto defects = record.AllDefects();
  if (!defects.empty()) r.SetHeader("X-Live-Defects", JoinDefects(defects));
  r.SetHeader("Accept-Ranges", "bytes");
  const bool head = request.method == "HEAD";
  const uint64_t size = (*body)->size();

  if (auto inm = request.Header("If-None-Match"); inm && ETagMatches(*inm, record.etag)) {
    r.status = 304;
    return r;
  }
  uint64_t offset = 0, length = size;
  if (auto range = request.Header("Range")) {
    ByteRange br;
    switch (ParseRange(*range, size, &br)) {
      case RangeParse::kNone:
        break;
      case RangeParse::kUnsatisfiable: {
        Response e =
            Response::Error(416, "range_not_satisfiable", "requested range is outside the object");
        e.SetHeader("Content-Range", "bytes */" + std::to_string(size));
        return e;
      }
      case RangeParse::kOk:
        r.status = 206;
        offset = br.first;
        length = br.last - br.first + 1;
        r.SetHeader("Content-Range", "bytes " + std::to_string(br.first) + "-" +
                                         std::to_string(br.last) + "/" + std::to_string(size));
        break;
    }
  }
  if (head) {
    r.head_length = length;
  } else {
    r.SetBody(std::move(body).value(), offset, length);
  }
  return r;
}

void OriginService::OnResponseSent(const Request& request, const Response& response,
                                   double seconds) {
  std::string event;
  if (auto t = ParseRequestTarget(request.target); t.ok() && registry_.Find(t->event)) {
    event = t->event;
  }
  metrics_.RequestDone(request.method, response.status, event, seconds, response.length);
  if (options_.access_log) {
    spdlog::info("access {} \"{} {}\" {} {} {:.3f}s pipeline={}{}", request.remote, request.method,
                 request.target, response.status,
                 response.head_length ? *response.head_length : response.length, seconds,
                 response.Header("X-Live-Pipeline").value_or("-"),
                 response.Header("X-Live-Held-Ms")
                     ? " held_ms=" + std::string(*response.Header("X-Live-Held-Ms"))
                     : std::string());
  }
}

}  // namespace liveorigin::core
