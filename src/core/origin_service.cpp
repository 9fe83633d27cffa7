#include "liveorigin/core/origin_service.h"
#include "liveorigin/common/thread_annotations.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "liveorigin/common/units.h"
#include "liveorigin/core/byte_range.h"
#include "liveorigin/core/cache_policy.h"
#include "liveorigin/core/content_type.h"
#include "liveorigin/core/defects.h"
#include "liveorigin/core/entity_tag.h"
#include "liveorigin/core/first_fragment.h"
#include "liveorigin/core/hls_playlist.h"
#include "liveorigin/core/live_body.h"
#include "liveorigin/core/live_timeline.h"
#include "liveorigin/core/log_limiter.h"
#include "liveorigin/core/pipeline_auth.h"
#include "liveorigin/core/request_target.h"
#include "liveorigin/core/upload_body.h"
#include "liveorigin/core/well_known_time.h"

namespace liveorigin::core {

using storage::CandidateRecord;
using storage::ObjectKind;

namespace {

Response NotFound(std::string_view message, int64_t max_age) {
  Response r = Response::Error(404, "not_found", message);
  r.SetHeader("Cache-Control", MaxAge(max_age));
  return r;
}

Response StorageUnavailable() {
  Response r = Response::Error(503, "storage_unavailable", "the object could not be read");
  r.SetHeader("Retry-After", "1");
  return r;
}

std::string HeldMs(TimePoint start, TimePoint now) {
  return std::to_string(std::chrono::duration_cast<Millis>(now - start).count());
}

}  // namespace

OriginOptions OriginOptions::From(const config::ServerConfig& server) {
  OriginOptions o;
  o.max_object_size = server.limits.max_object_size;
  o.max_held_requests = server.limits.max_held_requests;
  o.max_inflight_requests = server.limits.max_inflight_requests;
  o.shed_behind_segments = server.limits.shed_behind_segments;
  o.max_storage_latency = server.limits.max_storage_latency;
  o.access_log = server.log.access_log;
  o.node_name = server.node_name;
  o.cors_allow_origins = server.cors.allow_origins;
  o.store_recheck = server.storage.nats.recheck;
  return o;
}

std::string BodyCacheKey(const CandidateRecord& r) {
  std::string key;
  key.reserve(r.id.event.size() + r.id.pipeline.size() + r.id.path.size() + r.etag.size() + 3);
  key += r.id.event;
  key.push_back('\0');
  key += r.id.pipeline;
  key.push_back('\0');
  key += r.id.path;
  key.push_back('\0');
  key += r.etag;
  return key;
}

// ---------------------------------------------------------------------------
// Upload: one PUT body on its way in. Collects the bytes on the connection's
// thread; Finish hands them to a worker for hashing, inspection and storage.

class OriginService::Upload final : public UploadSink {
 public:
  Upload(std::shared_ptr<OriginService> service, Request request, std::shared_ptr<LiveEvent> event,
         ObjectAddress address, std::string pipeline, std::vector<std::string> header_defects,
         UploadBodyOptions body_options)
      : service_(std::move(service)),
        request_(std::move(request)),
        event_(std::move(event)),
        address_(std::move(address)),
        pipeline_(std::move(pipeline)),
        header_defects_(std::move(header_defects)),
        body_(std::move(body_options)) {
    ++service_->uploads_;
    service_->overload_.RequestStarted();
  }
  ~Upload() override {
    if (!finished_) Uncount();
    if (live_) EndLive(service_, event_, address_, live_, "aborted", "the upload was cut off");
  }

  // Low latency (SPEC §9): makes the upload visible to GETs while it arrives.
  void StartLive() {
    OriginService& s = *service_;
    LiveBody::Limits limits;
    limits.max_bytes = s.options_.max_object_size;
    auto live = std::make_shared<Live>();
    live->body = std::make_shared<LiveBody>(limits);
    live->id = event_->AddLiveUpload(
        address_, pipeline_, live->body,
        ContentTypeFor(address_.path, request_.Header("Content-Type").value_or("")),
        header_defects_);
    if (live->id == 0) {
      uint64_t suppressed = 0;
      if (LogLimiter::Shared().Allow(event_->config()->id + "|live_upload", &suppressed)) {
        spdlog::warn(
            "{} {} from {}: not visible while it arrives (another upload of this pipeline "
            "for the segment is in progress, or {} uploads are){}",
            request_.method, request_.target, pipeline_, LiveEvent::kMaxLiveUploads,
            suppressed ? " (" + std::to_string(suppressed) + " more not logged)" : std::string());
      }
      return;
    }
    live->last_bytes.store(s.clock_.Now().time_since_epoch().count());
    live_ = std::move(live);
    s.metrics_.LiveUploadStarted();
    const Millis d = event_->config()->segment_duration;
    ScheduleStallCheck(service_, event_, address_, live_, std::max<Millis>(d / 2, Millis(1000)),
                       std::max<Millis>(d / 2, Millis(1000)));
  }
  // The upload no longer counts as in flight.
  void Uncount() {
    --service_->uploads_;
    service_->overload_.RequestFinished();
  }

  // Content-Digest hashing and gzip decoding run incrementally, one received
  // piece at a time; the size limit applies to the decoded bytes (UploadBody).
  bool Append(std::string_view bytes) override {
    if (!first_byte_ && !bytes.empty()) first_byte_ = service_->clock_.Now();  // CMSD `at`
    const bool ok = body_.Append(bytes);
    if (live_) Publish(ok);
    return ok;
  }

  void Finish(Done done) override {
    finished_ = true;
    OriginService& s = *service_;
    const auto cfg = event_->config();
    // SPEC §11: size limit on the decoded body, gzip errors, Content-Digest.
    const UploadBody::Verdict verdict = body_.Finish();
    std::optional<Response> refused;
    switch (verdict.outcome) {
      case UploadBody::Outcome::kOk:
        break;
      case UploadBody::Outcome::kTooLarge:
        refused = s.Refuse(request_, cfg->id, pipeline_, 413, "too_large", verdict.message);
        break;
      case UploadBody::Outcome::kBadEncoding:
        refused = s.Refuse(request_, cfg->id, pipeline_, 400, "bad_encoding", verdict.message);
        break;
      case UploadBody::Outcome::kDigestMismatch:
        refused = s.Refuse(request_, cfg->id, pipeline_, 400, "digest_mismatch",
                           verdict.message + "; nothing was stored");
        break;
    }
    if (!refused && body_.empty_as_sent()) {
      // The connection probe of DASH-IF ingest sources: nothing is stored.
      spdlog::debug("{} {} from {}: empty probe answered 200", request_.method, request_.target,
                    pipeline_);
      refused.emplace();
      refused->status = 200;
      refused->SetHeader("X-Live-Pipeline", pipeline_);
    }
    if (refused) {
      Uncount();
      if (live_) {
        EndLive(service_, event_, address_, live_, "failed",
                refused->status == 200 ? "empty upload" : "the upload was refused");
      }
      done(std::move(*refused));
      return;
    }
    std::shared_ptr<Live> live = std::move(live_);
    if (live) live->finishing.store(true);  // storing is not stalling
    IngestMeta meta;
    meta.first_byte = first_byte_;
    meta.sha256 = body_.known_sha256();
    meta.was_live = live != nullptr;
    auto body = std::make_shared<const std::string>(body_.TakeBody());
    const TimePoint now = s.clock_.Now();
    s.exec_.workers.Post([service = service_, request = std::move(request_), event = event_,
                          address = std::move(address_), pipeline = std::move(pipeline_),
                          defects = std::move(header_defects_), body, now, meta = std::move(meta),
                          live = std::move(live), done = std::move(done)]() mutable {
      std::vector<WaitList::Wake> wake;
      const auto started = std::chrono::steady_clock::now();
      IngestResult result =
          event->Ingest(address, pipeline, body, std::move(defects),
                        request.Header("Content-Type").value_or(""), now, &wake, meta);
      service->overload_.NoteStorageLatency(std::chrono::steady_clock::now() - started);
      Response answer = service->IngestAnswer(request, *event->config(), pipeline, body, result);
      --service->uploads_;
      service->overload_.RequestFinished();
      done(std::move(answer));  // the PUT's answer is queued before any waiter runs
      if (live) {
        // Followers end normally only when the bytes they got were stored as
        // they are and are not corrupt (SPEC §9).
        const bool clean_end = result.status.ok() && result.outcome != IngestOutcome::kConflict &&
                               !HasDefect(result.record, defect::kCorrupt);
        EndLive(service, event, address, live, clean_end ? "complete" : "failed",
                clean_end ? "" : "the upload was not stored as it arrived, or is corrupt");
      }
      service->Wake(std::move(wake));
    });
  }

  void Abort(std::string_view reason) override {
    if (live_) {
      EndLive(service_, event_, address_, live_, "aborted",
              "the upload was cut off: " + std::string(reason));
      live_.reset();
    }
    spdlog::warn("{} /{}/{} from {} ({}) aborted after {} bytes: {}; nothing stored",
                 request_.method, event_->config()->id, address_.path, pipeline_, request_.remote,
                 body_.received(), reason);
    service_->metrics_.PutRefused(event_->config()->id, "aborted");
  }

 private:
  // What GETs see of the upload while it arrives.
  struct Live {
    std::shared_ptr<LiveBody> body;
    uint64_t id = 0;
    std::atomic<int64_t> last_bytes{0};  // service clock, ticks since its epoch
    std::atomic<bool> finishing{false};  // all bytes are in; being stored
    std::atomic<bool> ended{false};
  };

  static bool HasDefect(const CandidateRecord& record, std::string_view token) {
    const auto all = record.AllDefects();
    return std::find(all.begin(), all.end(), token) != all.end();
  }

  // Ends the upload's visibility once: followers end normally ("complete")
  // or are cut off; GETs held on the segment look again.
  static void EndLive(const std::shared_ptr<OriginService>& service,
                      const std::shared_ptr<LiveEvent>& event, const ObjectAddress& address,
                      const std::shared_ptr<Live>& live, std::string_view outcome,
                      const std::string& reason) {
    if (live->ended.exchange(true)) return;
    std::vector<WaitList::Wake> wake;
    event->RemoveLiveUpload(address, live->id, outcome != "complete", &wake);
    std::vector<LiveBody::Notify> notify;
    if (outcome == "complete") {
      live->body->Complete(&notify);
    } else {
      live->body->Fail(reason, &notify);
      spdlog::warn("event {}: followers of {} ({} bytes so far) cut off: {}", event->config()->id,
                   address.path, live->body->size(), reason);
    }
    service->metrics_.LiveUploadEnded(outcome);
    service->Wake(std::move(notify));
    service->Wake(std::move(wake));
  }

  // A followed upload that sends nothing for max(d/2, 1 s) is given up
  // (SPEC §9); the upload itself goes on and is stored if it completes.
  static void ScheduleStallCheck(std::shared_ptr<OriginService> service,
                                 std::shared_ptr<LiveEvent> event, ObjectAddress address,
                                 const std::shared_ptr<Live>& live, Millis delay, Millis limit) {
    std::weak_ptr<Live> weak = live;
    OriginService& s = *service;
    s.exec_.timers.RunAfter(delay, [service = std::move(service), event = std::move(event),
                                    address = std::move(address), weak, limit]() mutable {
      auto live = weak.lock();
      if (!live || live->ended.load() || live->finishing.load()) return;
      const TimePoint last{TimePoint::duration(live->last_bytes.load())};
      const auto idle = std::chrono::duration_cast<Millis>(service->clock_.Now() - last);
      if (idle >= limit) {
        EndLive(service, event, address, live, "stalled",
                "no bytes for " + std::to_string(idle.count()) + " ms");
        return;
      }
      ScheduleStallCheck(std::move(service), std::move(event), std::move(address), live,
                         limit - idle + Millis(1), limit);
    });
  }

  // Hands the bytes decoded so far to followers; notices the first moof
  // (the upload can be followed) and framing that proves it corrupt.
  void Publish(bool ok) {
    if (live_->ended.load()) return;
    OriginService& s = *service_;
    if (!ok) {
      EndLive(service_, event_, address_, live_, "failed",
              "the upload can no longer be stored (too large or badly encoded)");
      return;
    }
    const std::string_view decoded = body_.decoded();
    const TimePoint now = s.clock_.Now();
    if (decoded.size() > published_) {
      std::vector<LiveBody::Notify> notify;
      if (!live_->body->Append(decoded.substr(published_), &notify)) {
        EndLive(service_, event_, address_, live_, "failed", live_->body->failure());
        return;
      }
      published_ = decoded.size();
      live_->last_bytes.store(now.time_since_epoch().count());
      s.Wake(std::move(notify));
    }
    if (followable_) return;
    switch (scan_.Scan(decoded)) {
      case FirstFragmentScan::Result::kNeedMore:
        return;
      case FirstFragmentScan::Result::kFound: {
        followable_ = true;
        std::vector<WaitList::Wake> wake;
        event_->LiveUploadFollowable(address_, live_->id, decoded.substr(0, scan_.moof_end()), now,
                                     &wake);
        s.Wake(std::move(wake));
        return;
      }
      case FirstFragmentScan::Result::kMalformed:
        EndLive(service_, event_, address_, live_, "failed",
                "not a media segment: " + scan_.error());
        return;
    }
  }

  const std::shared_ptr<OriginService> service_;
  Request request_;
  std::shared_ptr<LiveEvent> event_;
  ObjectAddress address_;
  std::string pipeline_;
  std::vector<std::string> header_defects_;
  UploadBody body_;
  std::optional<TimePoint> first_byte_;
  bool finished_ = false;
  std::shared_ptr<Live> live_;  // null unless the event is low-latency
  FirstFragmentScan scan_;
  uint64_t published_ = 0;  // decoded bytes handed to live_->body
  bool followable_ = false;
};

// ---------------------------------------------------------------------------
// HeldRequest: a GET waiting at the live edge for its segment. Woken by the
// event's WaitList when a candidate arrives, by a timer when the preferred
// grace ends, and answered 404 at its deadline.

class OriginService::HeldRequest final : public std::enable_shared_from_this<HeldRequest> {
 public:
  HeldRequest(std::shared_ptr<OriginService> service, Request request,
              std::shared_ptr<LiveEvent> event, ObjectAddress address, Respond respond,
              TimePoint start, TimePoint deadline)
      : service_(std::move(service)),
        request_(std::move(request)),
        event_(std::move(event)),
        address_(std::move(address)),
        respond_(std::move(respond)),
        start_(start),
        deadline_(deadline) {}

  void Start() {
    service_->metrics_.HeldStarted();
    auto self = shared_from_this();
    service_->exec_.timers.RunAfter(
        std::chrono::duration_cast<Millis>(deadline_ - start_) + Millis(1),
        [self] { self->Timeout(); });
    Recheck();  // arms the waiter; the candidate may also have arrived meanwhile
    if (service_->store_.Shared()) ScheduleStoreRecheck();
  }

 private:
  // At most one waiter is registered at a time. Waiters are one-shot: the
  // event drops it when it fires, so OnWake forgets its id before rechecking.
  // The wait list holds the request weakly: its timers own it, so a request
  // still waiting when the server stops is freed with them instead of keeping
  // its event (and the store) alive through the event's own wait list.
  void Arm() {
    std::weak_ptr<HeldRequest> weak = shared_from_this();
    MutexLock lock(mu_);
    if (waiter_id_ != 0 || done_.load()) return;
    waiter_id_ = event_->AddWaiter(address_.rendition, *address_.number, [weak] {
      if (auto self = weak.lock()) self->OnWake();
    });
  }

  void OnWake() {
    {
      MutexLock lock(mu_);
      waiter_id_ = 0;
    }
    Recheck();
  }

  void ScheduleRecheck(TimePoint at) {
    {
      MutexLock lock(mu_);
      if (recheck_at_ == at) return;  // already scheduled for that instant
      recheck_at_ = at;
    }
    auto self = shared_from_this();
    const auto delay = std::chrono::duration_cast<Millis>(at - service_->clock_.Now()) + Millis(1);
    service_->exec_.timers.RunAfter(std::max(Millis(0), delay), [self] { self->Recheck(); });
  }

  // Scale-out (SPEC §10): other nodes' PUTs are announced, and a lost
  // announcement costs at most one period: the store is read on a worker.
  void ScheduleStoreRecheck() {
    std::weak_ptr<HeldRequest> weak = shared_from_this();
    service_->exec_.timers.RunAfter(service_->options_.store_recheck, [weak] {
      auto self = weak.lock();
      if (!self || self->done_.load()) return;
      OriginService& s = *self->service_;
      if (!self->event_->RecheckDue(self->address_, s.clock_.Now(), s.options_.store_recheck)) {
        self->ScheduleStoreRecheck();  // another held GET of this segment just read it
        return;
      }
      s.exec_.workers.Post([self] {
        if (self->done_.load()) return;
        OriginService& svc = *self->service_;
        std::vector<WaitList::Wake> wake;
        self->event_->RecheckStore(self->address_, svc.clock_.Now(), svc.options_.store_recheck,
                                   &wake);
        svc.Wake(std::move(wake));
        self->ScheduleStoreRecheck();
      });
    });
  }

  void Recheck() {
    if (done_.load()) return;
    // Armed before looking: whatever changes after the look wakes this
    // request again (a wake-up that finds nothing new is harmless).
    Arm();
    OriginService& s = *service_;
    const TimePoint now = s.clock_.Now();
    TimePoint follow_wait{};
    if (auto r = s.FollowAnswer(request_, event_, address_, now, &follow_wait, true)) {
      return Follow(std::move(*r), now);
    }
    Decision d = event_->Resolve(address_, now);
    if (d.selection_changed) s.metrics_.Selection(d.record.id.event, d.record.id.pipeline);
    if (d.outcome == Selection::Outcome::kServe) {
      if (done_.exchange(true)) return;
      Disarm();
      s.overload_.Released();
      s.metrics_.HeldFinished("released");
      auto self = shared_from_this();
      s.ServeDecision(request_, event_, std::move(d), [self](Response r) {
        r.SetHeader("X-Live-Held-Ms", HeldMs(self->start_, self->service_->clock_.Now()));
        self->respond_(std::move(r));
      });
      return;
    }
    if (auto r = s.FollowAnswer(request_, event_, address_, now, &follow_wait)) {
      return Follow(std::move(*r), now);
    }
    if (d.outcome == Selection::Outcome::kWait) ScheduleRecheck(d.wait_until);
    if (follow_wait != TimePoint{}) ScheduleRecheck(follow_wait);
  }

  // Answers with the stream of an upload in progress (SPEC §9).
  void Follow(Response r, TimePoint now) {
    if (done_.exchange(true)) return;
    Disarm();
    service_->overload_.Released();
    service_->metrics_.HeldFinished("following");
    r.SetHeader("X-Live-Held-Ms", HeldMs(start_, now));
    respond_(std::move(r));
  }

  void Timeout() {
    if (done_.exchange(true)) return;
    Disarm();
    service_->overload_.Released();
    service_->metrics_.HeldFinished("timeout");
    Response r = NotFound("segment was not delivered within hold.max_wait", 1);
    r.SetHeader("X-Live-Held-Ms", HeldMs(start_, service_->clock_.Now()));
    respond_(std::move(r));
  }

  void Disarm() {
    MutexLock lock(mu_);
    if (waiter_id_) event_->RemoveWaiter(address_.rendition, *address_.number, waiter_id_);
    waiter_id_ = 0;
  }

  const std::shared_ptr<OriginService> service_;
  Request request_;
  std::shared_ptr<LiveEvent> event_;
  ObjectAddress address_;
  Respond respond_;
  TimePoint start_, deadline_;
  std::atomic<bool> done_{false};
  Mutex mu_;
  uint64_t waiter_id_ GUARDED_BY(mu_) = 0;
  std::optional<TimePoint> recheck_at_ GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// PlaylistHold: an LL-HLS blocking playlist reload (SPEC §9). Holds a playlist
// GET with `_HLS_msn` (and `_HLS_part`) until the playlist of the pipeline
// that serves it contains that segment (or part); 503 after three target
// durations; 400 when the segment is more than two beyond the last one.

class OriginService::PlaylistHold final : public std::enable_shared_from_this<PlaylistHold> {
 public:
  // Without `reload`: a GET for an object a playlist announces in
  // EXT-X-PRELOAD-HINT, held until the object is PUT (404 after hold.max_wait).
  PlaylistHold(std::shared_ptr<OriginService> service, Request request,
               std::shared_ptr<LiveEvent> event, ObjectAddress address,
               std::optional<BlockingReload> reload, Respond respond)
      : service_(std::move(service)),
        request_(std::move(request)),
        event_(std::move(event)),
        address_(std::move(address)),
        reload_(reload),
        respond_(std::move(respond)),
        start_(service_->clock_.Now()) {}

  void Start() {
    service_->metrics_.HeldStarted();
    Check();
  }

 private:
  void Arm() {
    std::weak_ptr<PlaylistHold> weak = shared_from_this();
    MutexLock lock(mu_);
    if (waiter_id_ != 0 || done_.load()) return;
    waiter_id_ = event_->AddObjectWaiter(address_.path, [weak] {
      if (auto self = weak.lock()) self->OnWake();
    });
  }
  void Disarm() {
    MutexLock lock(mu_);
    if (waiter_id_) event_->RemoveObjectWaiter(address_.path, waiter_id_);
    waiter_id_ = 0;
  }
  void OnWake() {
    {
      MutexLock lock(mu_);
      waiter_id_ = 0;
    }
    Check();
  }

  void Check() {
    if (done_.load()) return;
    Arm();  // before looking: a playlist stored after the look wakes this again
    const TimePoint now = service_->clock_.Now();
    if (!reload_) {
      TimePoint ignored{};
      if (auto r = service_->FollowAnswer(request_, event_, address_, now, &ignored, true)) {
        return Finish(std::move(*r));
      }
    }
    Decision d = event_->Resolve(address_, now);
    if (!reload_) {
      if (d.outcome == Selection::Outcome::kServe) return Serve(std::move(d));
      TimePoint ignored{};
      if (auto r = service_->FollowAnswer(request_, event_, address_, now, &ignored)) {
        return Finish(std::move(*r));
      }
      return ArmDeadline(0);
    }
    if (d.outcome != Selection::Outcome::kServe) {
      return Finish(NotFound("no pipeline has delivered this playlist", 1));
    }
    auto self = shared_from_this();
    const CandidateRecord record = d.record;
    service_->LoadBody(record, [self, d = std::move(d)](const Result<Body>& body) mutable {
      self->OnPlaylist(std::move(d), body);
    });
  }

  void OnPlaylist(Decision d, const Result<Body>& body) {
    if (done_.load()) return;
    std::optional<PlaylistProgress> progress;
    if (body.ok() && *body) progress = ParsePlaylistProgress(**body);
    if (!progress || progress->Satisfies(*reload_)) return Serve(std::move(d));
    if (progress->TooFarAhead(*reload_)) {
      Response r =
          Response::Error(400, "bad_request",
                          "_HLS_msn " + std::to_string(reload_->msn) +
                              " is more than two beyond the playlist's last media sequence number");
      r.SetHeader("Cache-Control", "no-store");
      return Finish(std::move(r));
    }
    ArmDeadline(progress->target_duration);
  }

  // Three target durations from the start (the event's segment duration when
  // the playlist names none).
  void ArmDeadline(double target_seconds) {
    {
      MutexLock lock(mu_);
      if (deadline_armed_) return;
      deadline_armed_ = true;
    }
    const auto cfg = event_->config();
    const Millis target = target_seconds > 0 ? Millis(static_cast<int64_t>(target_seconds * 1000))
                                             : cfg->segment_duration;
    const TimePoint deadline = reload_ ? start_ + 3 * target : start_ + cfg->hold_max_wait;
    const auto delay = std::chrono::duration_cast<Millis>(deadline - service_->clock_.Now());
    auto self = shared_from_this();
    service_->exec_.timers.RunAfter(std::max(Millis(0), delay) + Millis(1), [self] {
      if (!self->reload_) {
        return self->Finish(
            NotFound("the preloaded object was not delivered within hold.max_wait", 1));
      }
      Response r = Response::Error(503, "playlist_not_updated",
                                   "the playlist did not reach the requested media sequence "
                                   "number within three target durations");
      r.SetHeader("Cache-Control", "no-store");
      r.SetHeader("Retry-After", "1");
      self->Finish(std::move(r));
    });
  }

  void Serve(Decision d) {
    if (done_.exchange(true)) return;
    Disarm();
    OriginService& s = *service_;
    s.overload_.Released();
    s.metrics_.HeldFinished("released");
    auto self = shared_from_this();
    s.ServeDecision(request_, event_, std::move(d), [self](Response r) {
      r.SetHeader("X-Live-Held-Ms", HeldMs(self->start_, self->service_->clock_.Now()));
      self->respond_(std::move(r));
    });
  }

  void Finish(Response r) {
    if (done_.exchange(true)) return;
    Disarm();
    service_->overload_.Released();
    service_->metrics_.HeldFinished(r.follow                             ? "following"
                                    : r.status == 503 || r.status == 404 ? "timeout"
                                                                         : "refused");
    r.SetHeader("X-Live-Held-Ms", HeldMs(start_, service_->clock_.Now()));
    respond_(std::move(r));
  }

  const std::shared_ptr<OriginService> service_;
  Request request_;
  std::shared_ptr<LiveEvent> event_;
  ObjectAddress address_;
  std::optional<BlockingReload> reload_;
  Respond respond_;
  TimePoint start_;
  std::atomic<bool> done_{false};
  Mutex mu_;
  uint64_t waiter_id_ GUARDED_BY(mu_) = 0;
  bool deadline_armed_ GUARDED_BY(mu_) = false;
};

// ---------------------------------------------------------------------------

OriginService::OriginService(EventRegistry& registry, storage::SegmentStore& store,
                             BodyCache& cache, metrics::OriginMetrics& metrics, const Clock& clock,
                             OriginExecutors executors, OriginOptions options)
    : registry_(registry),
      store_(store),
      cache_(cache),
      metrics_(metrics),
      clock_(clock),
      exec_(executors),
      options_(std::move(options)),
      cors_(options_.cors_allow_origins),
      delivery_(options_.node_name),
      overload_(options_.max_inflight_requests, options_.max_held_requests,
                options_.max_storage_latency) {}

OriginService::~OriginService() = default;

void OriginService::Handle(Request request, Respond respond) {
  if (request.method == "GET" || request.method == "HEAD") {
    overload_.RequestStarted();
    const bool head = request.method == "HEAD";
    HandleGet(std::move(request),
              [self = shared_from_this(), head, respond = std::move(respond)](Response r) {
                self->overload_.RequestFinished();
                if (head) r.ToHeadResponse();
                respond(std::move(r));
              });
    return;
  }
  if (request.method == "DELETE") {
    HandleDelete(request, respond);
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
  // The answered request has left the in-flight count by now: counting it
  // again gives the test GetSegment made when it shed.
  delivery_.ApplyDynamic(request, overload_.Overloaded(1), response);
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
  auto address = ClassifyPath(*cfg, target->path);
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
  const bool live =
      cfg->low_latency && (address->number.has_value() || event->IsPreloadHint(address->path));
  auto upload =
      std::make_unique<Upload>(shared_from_this(), request, std::move(event), std::move(*address),
                               auth.pipeline, std::move(defects), std::move(body_options));
  if (live) upload->StartLive();
  return upload;
}

Response OriginService::IngestAnswer(const Request& request, const config::EventConfig& cfg,
                                     const std::string& pipeline, const Body& body,
                                     IngestResult& result) {
  if (!result.status.ok()) {
    metrics_.StorageError("put");
    const bool full = result.status.IsNoSpace();
    spdlog::error("PUT /{}/{} from {}: storage failed: {}", cfg.id, result.record.id.path, pipeline,
                  result.status.ToString());
    return Refuse(request, cfg.id, pipeline, full ? 507 : 503,
                  full ? "insufficient_storage" : "storage_unavailable",
                  full ? "the origin's disk is full; nothing was stored"
                       : "the origin could not store the object; nothing was stored");
  }
  if (result.outcome == IngestOutcome::kConflict) {
    return Refuse(request, cfg.id, pipeline, 409, "already_served",
                  "this pipeline's candidate was already served to viewers and its bytes differ; "
                  "served bytes never change (ETag \"" +
                      result.record.etag + "\" kept)");
  }
  Response r;
  r.status = result.outcome == IngestOutcome::kCreated ? 201 : 204;
  r.SetHeader("ETag", "\"" + result.record.etag + "\"");
  r.SetHeader("X-Live-Pipeline", pipeline);
  if (result.outcome == IngestOutcome::kIdentical) return r;

  metrics_.BytesIn(cfg.id, pipeline, body->size());
  cache_.Put(BodyCacheKey(result.record), body);
  const auto defects = result.record.AllDefects();
  for (const auto& d : defects) metrics_.Defect(cfg.id, pipeline, d);
  uint64_t suppressed = 0;
  if (!defects.empty()) r.SetHeader("X-Live-Defects", JoinDefects(defects));
  if (!defects.empty() &&
      LogLimiter::Shared().Allow(cfg.id + "|defects|" + pipeline, &suppressed)) {
    spdlog::warn("event {}: {} from {} has defects: {}{}{}", cfg.id, result.record.id.path,
                 pipeline, JoinDefects(defects), result.record.inspection_note.empty() ? "" : " — ",
                 result.record.inspection_note);
  } else {
    spdlog::debug("event {}: stored {} from {} ({} bytes)", cfg.id, result.record.id.path, pipeline,
                  body->size());
  }
  return r;
}

void OriginService::LearnRemoteCandidate(CandidateRecord record) {
  if (pending_learns_.fetch_add(1) >= kMaxPendingLearns) {
    pending_learns_.fetch_sub(1);
    uint64_t suppressed = 0;
    if (LogLimiter::Shared().Allow("learn_backlog", &suppressed)) {
      spdlog::warn(
          "{} announcements of other nodes' PUTs are waiting for a worker: dropping "
          "this one (held GETs re-read the store){}",
          kMaxPendingLearns,
          suppressed ? " (" + std::to_string(suppressed) + " more not logged)" : "");
    }
    return;
  }
  exec_.workers.Post([self = shared_from_this(), record = std::move(record)] {
    self->pending_learns_.fetch_sub(1);
    auto event = self->registry_.Find(record.id.event);
    if (!event) return;  // an event this node does not serve (other event files)
    Body init;
    if (record.kind == storage::ObjectKind::kInit) {
      auto body = self->store_.GetBody(record.id);
      if (body.ok()) init = *body;
    }
    std::vector<WaitList::Wake> wake;
    if (event->Learn(record, init, &wake)) self->Wake(std::move(wake));
  });
}

void OriginService::Wake(std::vector<WaitList::Wake> wakes) {
  if (wakes.empty()) return;
  const size_t burst = std::max<size_t>(1, options_.wake_burst);
  auto shared = std::make_shared<std::vector<WaitList::Wake>>(std::move(wakes));
  for (size_t first = 0; first < shared->size(); first += burst) {
    exec_.io.Post([shared, first, burst] {
      const size_t end = std::min(shared->size(), first + burst);
      for (size_t i = first; i < end; ++i) (*shared)[i]();
    });
  }
}

void OriginService::HandleDelete(const Request& request, const Respond& respond) {
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
    GetSegment(std::move(request), std::move(event), std::move(*address), std::move(respond));
    return;
  }
  const std::string_view path = address->path;
  if (path.size() > 5 && path.substr(path.size() - 5) == ".m3u8") {
    // LL-HLS blocking playlist reload (SPEC §9).
    auto reload = ParseBlockingReload(request.target);
    if (!reload.ok()) {
      respond(Response::Error(400, "bad_request", reload.status().message()));
      return;
    }
    if (*reload) {
      if (!overload_.TryHold()) {
        Response r = Response::Error(503, "too_many_held_requests",
                                     "too many requests are waiting at the live edge");
        r.SetHeader("Retry-After", "1");
        respond(std::move(r));
        return;
      }
      std::make_shared<PlaylistHold>(shared_from_this(), std::move(request), std::move(event),
                                     std::move(*address), **reload, std::move(respond))
          ->Start();
      return;
    }
  }
  TimePoint follow_wait{};
  if (auto r = FollowAnswer(request, event, *address, clock_.Now(), &follow_wait, true)) {
    respond(std::move(*r));  // an LL-HLS part still arriving (SPEC §9)
    return;
  }
  Decision d = event->Resolve(*address, clock_.Now());
  if (d.outcome != Selection::Outcome::kServe) {
    if (auto r = FollowAnswer(request, event, *address, clock_.Now(), &follow_wait)) {
      respond(std::move(*r));
      return;
    }
    // LL-HLS: an object the playlist announces is held until it is PUT.
    if (event->config()->hold_max_wait.count() > 0 && event->IsPreloadHint(address->path) &&
        overload_.TryHold()) {
      std::make_shared<PlaylistHold>(shared_from_this(), std::move(request), std::move(event),
                                     std::move(*address), std::nullopt, std::move(respond))
          ->Start();
      return;
    }
    respond(NotFound("no pipeline has delivered this object", 1));
    return;
  }
  ServeDecision(request, event, std::move(d), std::move(respond));
}

void OriginService::LoadBody(const CandidateRecord& record,
                             const std::function<void(Result<Body>)>& done) {
  const std::string key = BodyCacheKey(record);
  if (auto body = cache_.Get(key)) {
    done(*body);
    return;
  }
  auto self = shared_from_this();
  BodyCache::Loader load = [self, id = record.id](BodyCache::Loaded loaded) {
    self->exec_.workers.Post(
        [self, id, loaded = std::move(loaded)] { loaded(self->store_.GetBody(id)); });
  };
  auto on_loaded = [done](Result<Body> body) { done(std::move(body)); };
  if (auto body = cache_.GetOrLoad(key, load, on_loaded)) done(*body);
}

void OriginService::GetSegment(Request request, std::shared_ptr<LiveEvent> event,
                               ObjectAddress address, Respond respond, bool store_checked) {
  const auto cfg = event->config();
  const LiveTimeline tl(*cfg);
  const TimePoint now = clock_.Now();
  const uint64_t n = *address.number;
  if (n < tl.start_number()) {
    respond(NotFound("segment number is before the event's start_number", 60));
    return;
  }
  const TimePoint available = tl.AvailabilityTime(n);
  // With low latency a segment can be followed from its start, one segment
  // duration before it is complete: that is what an LL-DASH MPD tells players
  // (availabilityTimeOffset = d minus one frame), so they ask then. The hold
  // window opens that much earlier, or a player whose clock runs a frame ahead
  // of the origin's would get a 404 that an edge keeps for the whole segment.
  const TimePoint opens = cfg->low_latency ? available - cfg->segment_duration : available;
  // Further ahead than the hold window: answer at once, no storage read.
  if (opens > now + cfg->segment_duration) {
    Response r = Response::Error(404, "not_found", "segment is not available yet");
    r.SetHeader("Cache-Control", CacheControlNotYetAvailable(opens, now));
    respond(std::move(r));
    return;
  }
  const auto edge = tl.LiveEdge(now);
  if (n < tl.FirstInWindow(now)) {
    Response r = Response::Error(410, "gone", "segment has left the DVR window");
    r.SetHeader("Cache-Control", CacheControlGone(*cfg));
    respond(std::move(r));
    return;
  }
  if (edge && n + options_.shed_behind_segments < *edge && overload_.Overloaded()) {
    metrics_.Shed(cfg->id);
    Response r =
        Response::Error(503, "overloaded", "the origin is protecting the live edge; retry later");
    r.SetHeader("Cache-Control", "public, max-age=5");
    r.SetHeader("Retry-After", "5");
    r.cmsd_dynamic = true;  // with `du`: the node is shedding (SPEC §11)
    respond(std::move(r));
    return;
  }
  TimePoint follow_wait{};
  // A segment being followed goes on being followed: every viewer gets the
  // same bytes, even when another pipeline completes first (SPEC §9).
  if (auto r = FollowAnswer(request, event, address, now, &follow_wait, true)) {
    respond(std::move(*r));
    return;
  }
  Decision d = event->Resolve(address, now);
  if (d.selection_changed) metrics_.Selection(cfg->id, d.record.id.pipeline);
  if (d.outcome == Selection::Outcome::kServe) {
    ServeDecision(request, event, std::move(d), std::move(respond));
    return;
  }
  if (auto r = FollowAnswer(request, event, address, now, &follow_wait)) {
    respond(std::move(*r));
    return;
  }
  const bool in_hold_window = now < available + cfg->hold_max_wait;
  if (!in_hold_window && d.outcome == Selection::Outcome::kNone && store_.Shared() &&
      !store_checked) {
    // Another node may have stored it and its announcement been lost: one
    // read of the store (on a worker) before answering 404.
    exec_.workers.Post([self = shared_from_this(), request = std::move(request), event,
                        address = std::move(address), respond = std::move(respond)]() mutable {
      std::vector<WaitList::Wake> wake;
      event->RecheckStore(address, self->clock_.Now(), self->options_.store_recheck, &wake);
      self->Wake(std::move(wake));
      self->GetSegment(std::move(request), std::move(event), std::move(address), std::move(respond),
                       true);
    });
    return;
  }
  if (!in_hold_window && d.outcome == Selection::Outcome::kNone) {
    respond(NotFound("no pipeline delivered this segment", 1));
    return;
  }
  if (cfg->hold_max_wait.count() == 0 && d.outcome == Selection::Outcome::kNone) {
    respond(NotFound("segment is not available yet", 1));
    return;
  }
  if (!overload_.TryHold()) {
    metrics_.Shed(cfg->id);
    uint64_t suppressed = 0;
    if (LogLimiter::Shared().Allow(cfg->id + "|held_limit", &suppressed)) {
      spdlog::warn(
          "event {}: max_held_requests ({}) reached: GET {} answered 503{}", cfg->id,
          options_.max_held_requests, request.target,
          suppressed ? " (" + std::to_string(suppressed) + " more not logged)" : std::string());
    }
    Response r = Response::Error(503, "too_many_held_requests",
                                 "too many requests are waiting at the live edge");
    r.SetHeader("Cache-Control", "public, max-age=1");
    r.SetHeader("Retry-After", "1");
    respond(std::move(r));
    return;
  }
  TimePoint deadline = now + cfg->hold_max_wait;
  if (d.outcome == Selection::Outcome::kWait && d.wait_until > deadline) {
    deadline = d.wait_until;  // never time out before the grace decision
  }
  deadline = std::max(deadline, follow_wait);
  auto held =
      std::make_shared<HeldRequest>(shared_from_this(), std::move(request), std::move(event),
                                    std::move(address), std::move(respond), now, deadline);
  held->Start();
}

std::optional<Response> OriginService::FollowAnswer(const Request& request,
                                                    const std::shared_ptr<LiveEvent>& event,
                                                    const ObjectAddress& address, TimePoint now,
                                                    TimePoint* wait_until, bool chosen_only) {
  // HEAD waits for the whole object; so does HTTP/1.0, which has no chunked
  // framing (an answer ended by closing could not be told from a cut-off one).
  if (request.method != "GET" || !request.http11) return std::nullopt;
  const auto cfg = event->config();
  if (!cfg->low_latency) return std::nullopt;
  FollowDecision f = event->Follow(address, now, chosen_only);
  if (f.outcome == Selection::Outcome::kWait) *wait_until = f.wait_until;
  if (f.outcome != Selection::Outcome::kServe) return std::nullopt;
  Response r;
  r.status = 200;
  r.SetHeader("Content-Type", f.content_type);
  // Like a defective answer: one segment duration (SPEC §9).
  r.SetHeader("Cache-Control",
              MaxAge(std::max<int64_t>(1, (cfg->segment_duration.count() + 999) / 1000)));
  r.SetHeader("X-Live-Pipeline", f.pipeline);
  // nginx streams this answer through unbuffered (and so never caches it);
  // complete answers stay buffered and cached as usual.
  r.SetHeader("X-Accel-Buffering", "no");
  storage::CandidateId id;
  id.event = cfg->id;
  id.path = address.path;
  id.rendition = address.rendition;
  id.number = address.number;
  id.pipeline = f.pipeline;
  // The upload's first byte, on this clock: `now` less the time since then.
  const auto since_first = std::chrono::steady_clock::now() - f.body->first_byte();
  const TimePoint first_byte = now - std::chrono::duration_cast<TimePoint::duration>(std::max(
                                         since_first, std::chrono::steady_clock::duration::zero()));
  delivery_.ApplyFollowing(*cfg, id, address.kind, ToUnixMillis(first_byte), &r);
  metrics_.FollowStarted();
  auto self = shared_from_this();
  auto body = f.body;
  r.follow = std::make_shared<LiveFollower>(
      std::move(f.body),
      [self, body] {
        const auto first = body->first_byte();
        self->metrics_.FollowFirstByte(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - first).count());
      },
      [self] { self->metrics_.FollowEnded(); });
  return r;
}

void OriginService::ServeDecision(const Request& request, const std::shared_ptr<LiveEvent>& event,
                                  Decision decision, Respond respond) {
  if (!decision.persist) {
    Serve(request, event, decision.record, true, std::move(respond));
    return;
  }
  // A new sticky choice: durable before its bytes go out (SPEC §5.1, §7).
  exec_.workers.Post([self = shared_from_this(), request, event, d = std::move(decision),
                      respond = std::move(respond)]() mutable {
    std::vector<WaitList::Wake> wake;
    CandidateRecord serve;
    const Status st = event->PersistSticky(*d.persist, &wake, &serve);
    if (!st.ok()) self->metrics_.StorageError("selection");
    // Another node may have decided first: serve the fleet's choice (SPEC §10).
    self->Serve(request, event, st.ok() ? serve : d.record, st.ok(), std::move(respond));
    self->Wake(std::move(wake));
  });
}

void OriginService::Serve(const Request& request, const std::shared_ptr<LiveEvent>& event,
                          const CandidateRecord& record, bool durable, Respond respond) {
  auto cfg = event->config();
  std::string key = BodyCacheKey(record);
  // Repr-Digest may need a SHA-256 of the bytes (once per candidate): not on
  // a network thread.
  if (request.Header("Want-Repr-Digest")) {
    exec_.workers.Post([self = shared_from_this(), request, cfg = std::move(cfg), record, durable,
                        key = std::move(key), respond = std::move(respond)] {
      Result<Body> body = Status::NotFound("");
      if (auto cached = self->cache_.Get(key)) {
        body = *cached;
      } else {
        body = self->store_.GetBody(record.id);
        if (body.ok()) self->cache_.Put(key, *body);
      }
      respond(self->BuildAnswer(request, cfg, record, key, body, self->clock_.Now(), durable));
    });
    return;
  }
  // HEAD and a matching If-None-Match need no bytes: the record says it all.
  const bool needs_body = request.method != "HEAD" &&
                          !(request.Header("If-None-Match") &&
                            IfNoneMatchMatches(*request.Header("If-None-Match"), record.etag));
  if (!needs_body) {
    respond(BuildAnswer(request, cfg, record, key, Body(), clock_.Now(), durable));
    return;
  }
  if (auto body = cache_.Get(key)) {
    respond(BuildAnswer(request, cfg, record, key, *body, clock_.Now(), durable));
    return;
  }
  auto self = shared_from_this();
  BodyCache::Loader load = [self, id = record.id](BodyCache::Loaded done) {
    self->exec_.workers.Post([self, id, done = std::move(done)] {
      const auto started = std::chrono::steady_clock::now();
      Result<Body> body = self->store_.GetBody(id);
      self->overload_.NoteStorageLatency(std::chrono::steady_clock::now() - started);
      done(std::move(body));
    });
  };
  auto on_loaded = [self, request, cfg, record, key, durable,
                    respond = std::move(respond)](const Result<Body>& body) {
    respond(self->BuildAnswer(request, cfg, record, key, body, self->clock_.Now(), durable));
  };
  if (auto body = cache_.GetOrLoad(key, load, on_loaded)) on_loaded(*body);
}

Response OriginService::BuildAnswer(const Request& request,
                                    const std::shared_ptr<const config::EventConfig>& config,
                                    const CandidateRecord& record, const std::string& cache_key,
                                    const Result<Body>& body, TimePoint now, bool durable) {
  if (!body.ok()) {
    metrics_.StorageError("get");
    spdlog::error("GET {}: cannot read candidate from {}: {}", request.target, record.id.pipeline,
                  body.status().ToString());
    return StorageUnavailable();
  }
  const config::EventConfig& cfg = *config;
  static const std::string kNoBytes;
  Response r;
  r.headers.reserve(16);  // every header of a delivery answer, CORS and CMSD included
  // CMSD-Static and Repr-Digest, built once per candidate (SPEC §11).
  delivery_.Apply(request, config, record, cache_key, *body ? **body : kNoBytes, &r);
  r.SetHeader("Content-Type", record.content_type);
  r.SetHeader("ETag", "\"" + record.etag + "\"");
  r.SetHeader("Last-Modified", FormatHttpDate(FromUnixMillis(record.ingest_unix_ms)));
  r.SetHeader("Cache-Control", CacheControlFor(cfg, record, now, durable));
  r.SetHeader("X-Live-Pipeline", record.id.pipeline);
  const auto defects = record.AllDefects();
  if (!defects.empty()) r.SetHeader("X-Live-Defects", JoinDefects(defects));
  r.SetHeader("Accept-Ranges", "bytes");
  const uint64_t size = record.size;

  if (auto inm = request.Header("If-None-Match"); inm && IfNoneMatchMatches(*inm, record.etag)) {
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
        length = br.length();
        r.SetHeader("Content-Range", "bytes " + std::to_string(br.first) + "-" +
                                         std::to_string(br.last) + "/" + std::to_string(size));
        break;
    }
  }
  if (request.method == "HEAD" || !*body) {
    r.head_length = length;
  } else if ((*body)->size() != size) {
    spdlog::error("GET {}: stored body of {} has {} bytes, its record says {}", request.target,
                  record.id.pipeline, (*body)->size(), size);
    metrics_.StorageError("get");
    return StorageUnavailable();
  } else {
    r.SetBody(*body, offset, length);
  }
  return r;
}

void OriginService::OnBodyStreamed(const Request& request, uint64_t bytes) {
  if (auto t = ParseRequestTarget(request.target); t.ok() && registry_.Find(t->event)) {
    metrics_.BodyBytesOut(t->event, bytes);
  }
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
