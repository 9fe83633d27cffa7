// Hot functions on the request path, measured with Google Benchmark.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "liveorigin/config/segment_template.h"
#include "liveorigin/core/body_cache.h"
#include "liveorigin/core/candidate_selector.h"
#include "liveorigin/core/content_digest.h"
#include "liveorigin/core/cors.h"
#include "liveorigin/core/delivery_headers.h"
#include "liveorigin/core/request_target.h"
#include "liveorigin/core/upload_body.h"
#include "liveorigin/http/response_head.h"
#include "liveorigin/media/iso_bmff.h"

namespace {

using namespace liveorigin;
using namespace std::chrono_literals;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(LIVEORIGIN_SOURCE_DIR) + "/tests/fixtures/media/" + name,
                   std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void BM_ParseRequestTarget(benchmark::State& state) {
  for (auto _ : state) {
    auto t = core::ParseRequestTarget("/demo/chunk-stream0-00001234.m4s?cdn=1");
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_ParseRequestTarget);

void BM_TemplateMatch(benchmark::State& state) {
  auto tpl = config::SegmentTemplate::Compile("chunk-stream$RepresentationID$-$Number%05d$.m4s");
  for (auto _ : state) {
    auto m = tpl->Matches("chunk-stream10-00123456.m4s");
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_TemplateMatch);

void BM_SelectSegment(benchmark::State& state) {
  core::SegmentSelectionInput in;
  in.availability_time = TimePoint(1000s);
  in.now = in.availability_time + 1s;
  in.preferred_grace = 500ms;
  in.pipelines = {{true, core::CandidateView{{"corrupt"}}},
                  {true, core::CandidateView{{}}},
                  {false, core::CandidateView{{"slate"}}}};
  for (auto _ : state) {
    auto s = core::SelectSegment(in);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_SelectSegment);

void BM_ParseMediaSegment(benchmark::State& state, const char* name) {
  const std::string seg = Fixture(name);
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(seg.data()), seg.size());
  for (auto _ : state) {
    auto r = media::ParseMediaSegment(bytes);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * seg.size()));
}
BENCHMARK_CAPTURE(BM_ParseMediaSegment, dash_video, "dash_video_1.m4s");
BENCHMARK_CAPTURE(BM_ParseMediaSegment, low_latency_25_moofs, "ldash_video_1.m4s");

void BM_BodyCacheHit(benchmark::State& state) {
  core::BodyCache cache(64 << 20);
  cache.Put("k", std::make_shared<const std::string>(65536, 'x'));
  for (auto _ : state) {
    auto b = cache.Get("k");
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_BodyCacheHit)->Threads(1)->Threads(2);

// The head of a hot 64 KiB delivery answer as the session writes it, without
// (plain) and with the interoperability headers of SPEC §11 (CORS for "*",
// CMSD-Static from the per-candidate cache, CMSD-Dynamic): the difference is
// what those headers cost per response.
core::Response DeliveryAnswer() {
  core::Response r;
  r.status = 200;
  r.headers.reserve(16);
  r.headers = {{"Content-Type", "video/iso.segment"},
               {"ETag", "\"3f1c2a9b7e6d5c4b\""},
               {"Last-Modified", "Tue, 24 Nov 2026 09:00:00 GMT"},
               {"Cache-Control", "max-age=7200"},
               {"Accept-Ranges", "bytes"},
               {"X-Live-Pipeline", "a"},
               {"X-Live-Defects", "none"}};
  r.length = 65536;
  return r;
}

void BM_DeliveryHead(benchmark::State& state) {
  const bool interop = state.range(0) != 0;
  const core::Response base = DeliveryAnswer();
  core::DeliveryHeaders delivery("origin-a");
  const core::CorsPolicy cors({"*"});
  auto event = std::make_shared<config::EventConfig>();
  event->id = "live";
  event->segment_duration = std::chrono::seconds(2);
  event->media_template =
      config::SegmentTemplate::Compile("$RepresentationID$/$Number$.m4s").value();
  storage::CandidateRecord record;
  record.id = {"live", "v/100.m4s", "v", 100, "a"};
  record.kind = storage::ObjectKind::kSegment;
  record.size = 65536;
  record.first_byte_unix_ms = 1'790'000'000'000;
  core::Request request;
  request.method = "GET";
  request.target = "/live/v/100.m4s";
  request.headers = {{"Host", "origin"}, {"User-Agent", "edge"}, {"Accept", "*/*"}};
  request.received = std::chrono::steady_clock::now();
  const std::string cache_key = "live|a|v/100.m4s|3f1c2a9b7e6d5c4b";
  http::ResponseFraming framing;
  framing.content_length = 65536;
  framing.send_body = true;
  std::string head;
  for (auto _ : state) {
    core::Response r = base;
    if (interop) {
      delivery.Apply(request, event, record, cache_key, "", &r);
      cors.Apply(request, &r);
      delivery.ApplyDynamic(request, false, &r);
    }
    http::SerializeResponseHead(r, framing, "Tue, 24 Nov 2026 09:00:00 GMT", &head);
    benchmark::DoNotOptimize(head.data());
  }
}
BENCHMARK(BM_DeliveryHead)->ArgName("interop_headers")->Arg(0)->Arg(1);

// One 1 MB upload body taken in the session's 256 KiB reads, without and with
// a sha-256 Content-Digest to verify (SPEC §11): the difference is the added
// work per PUT.
void BM_UploadBody1MB(benchmark::State& state) {
  const bool digest = state.range(0) != 0;
  std::string bytes(1 << 20, 'x');
  for (size_t i = 0; i < bytes.size(); i += 4096) bytes[i] = static_cast<char>(i / 4096);
  core::UploadBodyOptions options;
  options.reserve = bytes.size();
  if (digest) {
    options.digests = core::ParseDigestField(core::FormatSha256Field(core::Sha256(bytes))).value();
  }
  constexpr size_t kRead = 256 * 1024;
  for (auto _ : state) {
    core::UploadBody body(options);
    for (size_t at = 0; at < bytes.size(); at += kRead) {
      body.Append(std::string_view(bytes).substr(at, kRead));
    }
    auto verdict = body.Finish();
    if (verdict.outcome != core::UploadBody::Outcome::kOk) state.SkipWithError("digest refused");
    benchmark::DoNotOptimize(verdict);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_UploadBody1MB)
    ->ArgName("content_digest")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
