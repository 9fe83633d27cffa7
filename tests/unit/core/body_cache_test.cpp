// BodyCache: byte-bounded LRU, the capacity/4 admission rule, refresh on Put,
// counters, and request collapsing of concurrent misses (SPEC §5.4, §7).
#include "liveorigin/core/body_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <latch>
#include <stdexcept>
#include <thread>
#include <vector>

namespace liveorigin::core {
namespace {

Body B(size_t size, char fill = 'x') { return std::make_shared<const std::string>(size, fill); }

// The asynchronous API driven synchronously: `load` runs on the calling thread
// of the first miss; the callers that join it wait for its result.
Result<Body> GetOrLoadSync(BodyCache& cache, const std::string& key,
                           const std::function<Result<Body>()>& load) {
  std::promise<Result<Body>> promise;
  auto future = promise.get_future();
  auto hit = cache.GetOrLoad(
      key,
      [&load](BodyCache::Loaded done) {
        Result<Body> r = Status::IOError("load did not run");
        try {
          r = load();
        } catch (const std::exception& e) {
          r = Status::IOError(std::string("load failed: ") + e.what());
        }
        done(std::move(r));
      },
      [&promise](Result<Body> r) { promise.set_value(std::move(r)); });
  if (hit) return *hit;
  return future.get();
}

// True when `key` is cached. Probes with a failing loader, which is never cached,
// so a miss leaves the cache as it was (a hit refreshes the key's LRU position).
bool IsCached(BodyCache& cache, const std::string& key) {
  bool loaded = false;
  auto r = GetOrLoadSync(cache, key, [&]() -> Result<Body> {
    loaded = true;
    return Status::NotFound("probe");
  });
  EXPECT_EQ(r.ok(), !loaded);
  return !loaded;
}

TEST(BodyCacheTest, EvictsLeastRecentlyUsedByBytes) {
  BodyCache cache(1000);
  cache.Put("a", B(250));
  cache.Put("b", B(250));
  cache.Put("c", B(250));
  cache.Put("d", B(250));
  EXPECT_EQ(cache.bytes(), 1000u) << "exactly at capacity: nothing evicted";
  // Touch "a": "b" becomes the least recently used.
  ASSERT_TRUE(
      GetOrLoadSync(cache, "a", [] { return Result<Body>(Status::IOError("unused")); }).ok());
  cache.Put("e", B(100));
  EXPECT_EQ(cache.bytes(), 850u);
  EXPECT_FALSE(IsCached(cache, "b"));
  // Each probe is a hit and refreshes: the order becomes e, a, d, c (newest first).
  EXPECT_TRUE(IsCached(cache, "c"));
  EXPECT_TRUE(IsCached(cache, "d"));
  EXPECT_TRUE(IsCached(cache, "a"));
  EXPECT_TRUE(IsCached(cache, "e"));
  cache.Put("f", B(250));  // 1100 > 1000: evict the oldest, c
  EXPECT_EQ(cache.bytes(), 850u);
  EXPECT_FALSE(IsCached(cache, "c"));
  EXPECT_TRUE(IsCached(cache, "d"));  // order: d, f, e, a
  cache.Put("g", B(250));             // evict a
  EXPECT_EQ(cache.bytes(), 850u);
  EXPECT_FALSE(IsCached(cache, "a"));
  EXPECT_TRUE(IsCached(cache, "d"));
  EXPECT_TRUE(IsCached(cache, "e"));
  EXPECT_TRUE(IsCached(cache, "f"));
  EXPECT_TRUE(IsCached(cache, "g"));
  EXPECT_LE(cache.bytes(), cache.capacity());
}

TEST(BodyCacheTest, ObjectOverAQuarterOfTheCapacityIsNotCached) {
  BodyCache cache(1000);
  cache.Put("small", B(250));
  cache.Put("big", B(251));
  EXPECT_TRUE(IsCached(cache, "small"));
  EXPECT_FALSE(IsCached(cache, "big"));
  EXPECT_EQ(cache.bytes(), 250u);

  // A big object is still served by GetOrLoad, just not kept.
  int loads = 0;
  auto big = B(600);
  for (int i = 0; i < 2; ++i) {
    auto r = GetOrLoadSync(cache, "big", [&]() -> Result<Body> {
      ++loads;
      return big;
    });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->get(), big.get());
  }
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(cache.bytes(), 250u);
}

TEST(BodyCacheTest, NullBodyIsNotCached) {
  BodyCache cache(1000);
  cache.Put("null", nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_FALSE(IsCached(cache, "null"));
}

TEST(BodyCacheTest, PutRefreshesBodyAndRecency) {
  BodyCache cache(1000);
  cache.Put("k", B(100, '1'));
  cache.Put("other", B(200));
  auto v2 = B(150, '2');
  cache.Put("k", v2);
  EXPECT_EQ(cache.bytes(), 350u) << "the old body's bytes are released";
  auto r = GetOrLoadSync(cache, "k", [] { return Result<Body>(Status::IOError("unused")); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->get(), v2.get());

  // Refreshing moves the key to the front: "other" is evicted first.
  cache.Put("x", B(200));
  cache.Put("y", B(200));
  cache.Put("k", v2);      // refresh: LRU order other, x, y, k
  cache.Put("z", B(250));  // 1000 → exactly full, nothing evicted
  EXPECT_EQ(cache.bytes(), 1000u);
  cache.Put("w", B(10));  // over: evict the least recently used ("other")
  EXPECT_FALSE(IsCached(cache, "other"));
  EXPECT_TRUE(IsCached(cache, "k"));
  EXPECT_TRUE(IsCached(cache, "x"));
}

TEST(BodyCacheTest, EraseReleasesBytes) {
  BodyCache cache(1000);
  cache.Put("k", B(100));
  cache.Erase("k");
  cache.Erase("never-there");
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_FALSE(IsCached(cache, "k"));
}

TEST(BodyCacheTest, CountsHitsAndMisses) {
  BodyCache cache(1000);
  int loads = 0;
  auto body = B(10);
  auto load = [&]() -> Result<Body> {
    ++loads;
    return body;
  };
  auto first = GetOrLoadSync(cache, "k", load);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 0u);
  for (int i = 0; i < 3; ++i) {
    auto again = GetOrLoadSync(cache, "k", load);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->get(), body.get()) << "shared, never copied";
  }
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(cache.hits(), 3u);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.collapsed(), 0u);
  cache.Put("p", B(5));
  ASSERT_TRUE(GetOrLoadSync(cache, "p", load).ok());
  EXPECT_EQ(cache.hits(), 4u) << "a Put body counts as a hit";
  EXPECT_EQ(loads, 1);
}

TEST(BodyCacheTest, FailingLoaderIsNotCached) {
  BodyCache cache(1000);
  int loads = 0;
  for (int i = 0; i < 2; ++i) {
    auto r = GetOrLoadSync(cache, "k", [&]() -> Result<Body> {
      ++loads;
      return Status::IOError("disk on fire");
    });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "disk on fire");
  }
  EXPECT_EQ(loads, 2) << "the failure is not remembered";
  EXPECT_EQ(cache.misses(), 2u);
  EXPECT_EQ(cache.bytes(), 0u);

  // A throwing loader becomes an error, and is not cached either.
  auto thrown =
      GetOrLoadSync(cache, "t", []() -> Result<Body> { throw std::runtime_error("boom"); });
  ASSERT_FALSE(thrown.ok());
  EXPECT_NE(thrown.status().message().find("boom"), std::string::npos);
  auto later = GetOrLoadSync(cache, "t", [] { return Result<Body>(B(7)); });
  ASSERT_TRUE(later.ok());
  EXPECT_EQ((*later)->size(), 7u);
  EXPECT_TRUE(IsCached(cache, "t"));
}

// N threads miss the same key at once: one runs the loader, which blocks until
// every other caller is waiting on it; all get the same pointer.
TEST(BodyCacheTest, ConcurrentMissesAreCollapsedIntoOneLoad) {
  constexpr int kThreads = 8;
  BodyCache cache(1 << 20);
  std::atomic<int> loads{0};
  std::atomic<bool> loader_started{false};
  std::latch release(1);
  auto body = B(1000);
  auto load = [&]() -> Result<Body> {
    ++loads;
    loader_started = true;
    release.wait();
    return body;
  };

  std::vector<const std::string*> got(kThreads, nullptr);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = GetOrLoadSync(cache, "seg", load);
      if (r.ok()) got[i] = r->get();
    });
  }
  // Release the loader only once every other caller has joined its load.
  while (!loader_started.load() || cache.collapsed() < kThreads - 1) std::this_thread::yield();
  release.count_down();
  for (auto& t : threads) t.join();

  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(cache.collapsed(), uint64_t{kThreads - 1});
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 0u);
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(got[i], body.get()) << "thread " << i;
  EXPECT_TRUE(IsCached(cache, "seg"));
}

TEST(BodyCacheTest, ConcurrentMissesShareAFailureWhichIsNotCached) {
  constexpr int kThreads = 4;
  BodyCache cache(1 << 20);
  std::atomic<int> loads{0};
  std::atomic<bool> loader_started{false};
  std::latch release(1);
  auto load = [&]() -> Result<Body> {
    ++loads;
    loader_started = true;
    release.wait();
    return Status::IOError("read failed");
  };
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      if (!GetOrLoadSync(cache, "seg", load).ok()) ++failures;
    });
  }
  while (!loader_started.load() || cache.collapsed() < kThreads - 1) std::this_thread::yield();
  release.count_down();
  for (auto& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(failures.load(), kThreads);
  EXPECT_FALSE(IsCached(cache, "seg"));
}

}  // namespace
}  // namespace liveorigin::core
