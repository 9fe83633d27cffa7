// Test support for driving OriginService / AdminService without sockets:
// the "ev" event timeline, clean segments on a continuous timeline, and
// helpers that push a request through a RequestHandler and capture the answer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fmp4_fixtures.h"
#include "liveorigin/common/clock.h"
#include "liveorigin/config/config.h"
#include "liveorigin/core/request_handler.h"

namespace liveorigin::testing {

using namespace std::chrono_literals;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The answer to one request, which may come later (held requests).
struct Reply {
  int calls = 0;
  std::optional<core::Response> response;

  bool done() const { return response.has_value(); }
  int status() const { return response ? response->status : -1; }
  std::string header(std::string_view name) const {
    if (!response) return "<no response>";
    auto h = response->Header(name);
    return h ? std::string(*h) : std::string("<absent>");
  }
  std::string body() const { return response ? std::string(response->BodyView()) : ""; }
};

// Event "ev": AST kAst, start_number 1, d = 2 s, so segment n is available at
// kAst + 2n s; DVR 20 s (10 segments), hold 3 s, grace 500 ms, ingest_ahead 2;
// pipelines a and b without tokens (PUTs name themselves with X-Live-Pipeline).
inline const TimePoint kAst = TimePoint(1'700'000'000s);
inline constexpr auto kD = 2s;

inline TimePoint Avail(uint64_t n) { return kAst + kD * static_cast<int64_t>(n); }
inline std::string Path(uint64_t n) { return "v/" + std::to_string(n) + ".m4s"; }

inline config::EventConfig EvConfig() {
  config::EventConfig cfg;
  cfg.id = "ev";
  cfg.availability_start_time = kAst;
  cfg.start_number = 1;
  cfg.segment_duration = kD;
  cfg.dvr_window = 20s;
  cfg.media_template = config::SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value();
  cfg.init_template = config::SegmentTemplate::Compile("$RepresentationID$/init.mp4").value();
  cfg.pipelines = {{"a", std::nullopt}, {"b", std::nullopt}};
  cfg.hold_max_wait = 3s;
  cfg.preferred_grace = 500ms;
  cfg.ingest_ahead = 2;
  cfg.manifest_max_age = 1s;
  return cfg;
}

// A clean media segment for number `n`: the 1 s ffmpeg fixture (12800 ticks)
// moved so that consecutive numbers continue each other's timeline. No init
// segment is PUT for rendition "v", so the 1 s duration is not checked against
// d = 2 s. `variant` changes one mdat byte: same timing, different bytes/ETag.
inline std::string Seg(uint64_t n, int variant = 0) {
  static const std::string base = Fixture("dash_video_1.m4s");
  std::string s = ShiftTfdt(base, static_cast<int64_t>(n) * 12800);
  if (variant) s.back() = static_cast<char>(s.back() ^ variant);
  return s;
}

// One PUT to /ev/<path> through BeginUpload → Append (1000-byte chunks) → Finish;
// the service must run its work inline (InlineTaskRunner).
inline core::Response PutThrough(core::RequestHandler& handler, const std::string& pipeline,
                                 const std::string& path, const std::string& body,
                                 HeaderList extra = {},
                                 std::optional<uint64_t> content_length = std::nullopt) {
  core::Request req;
  req.method = "PUT";
  req.target = "/ev/" + path;
  req.headers = {{"X-Live-Pipeline", pipeline}};
  for (auto& h : extra) req.headers.push_back(std::move(h));
  req.remote = "127.0.0.1:5000";
  req.content_length = content_length;
  core::Response refusal;
  auto sink = handler.BeginUpload(req, &refusal);
  if (!sink) return refusal;
  for (size_t off = 0; off < body.size(); off += 1000) {
    if (!sink->Append(std::string_view(body).substr(off, 1000))) break;
  }
  // With the InlineTaskRunner of the tests, the answer arrives before Finish returns.
  std::optional<core::Response> answer;
  sink->Finish([&answer](core::Response r) { answer = std::move(r); });
  if (!answer) return core::Response::Error(599, "test", "the upload was not answered inline");
  return std::move(*answer);
}

// Any other request; the reply fills in when the handler answers.
inline std::shared_ptr<Reply> Call(core::RequestHandler& handler, const std::string& method,
                                   const std::string& target, HeaderList headers = {}) {
  core::Request req;
  req.method = method;
  req.target = target;
  req.headers = std::move(headers);
  req.remote = "127.0.0.1:6000";
  auto reply = std::make_shared<Reply>();
  handler.Handle(std::move(req), [reply](core::Response r) {
    ++reply->calls;
    reply->response = std::move(r);
  });
  return reply;
}

}  // namespace liveorigin::testing
