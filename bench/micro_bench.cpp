// Hot functions on the request path, measured with Google Benchmark.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "liveorigin/config/segment_template.h"
#include "liveorigin/core/body_cache.h"
#include "liveorigin/core/candidate_selector.h"
#include "liveorigin/core/request_target.h"
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

}  // namespace
