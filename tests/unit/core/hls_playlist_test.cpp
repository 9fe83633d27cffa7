// LL-HLS blocking playlist reload: the query and how far a playlist has got.
#include "liveorigin/core/hls_playlist.h"

#include <gtest/gtest.h>

namespace liveorigin::core {
namespace {

constexpr std::string_view kPlaylist =
    "#EXTM3U\n"
    "#EXT-X-VERSION:9\n"
    "#EXT-X-TARGETDURATION:2\n"
    "#EXT-X-MEDIA-SEQUENCE:10\n"
    "#EXT-X-MAP:URI=\"init.mp4\"\n"
    "#EXT-X-PART:DURATION=0.5,URI=\"seg_10.0.m4s\"\n"
    "#EXTINF:2.0,\n"
    "seg_10.m4s\n"
    "#EXTINF:2.0,\r\n"
    "seg_11.m4s\r\n"
    "#EXT-X-PART:DURATION=0.5,URI=\"seg_12.0.m4s\"\n"
    "#EXT-X-PART:DURATION=0.5,URI=\"seg_12.1.m4s\"\n"
    "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg_12.2.m4s\"\n";

TEST(HlsPlaylistTest, ProgressOfAMediaPlaylist) {
  const auto p = ParsePlaylistProgress(kPlaylist);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->media_sequence, 10u);
  EXPECT_EQ(p->segments, 2u);
  EXPECT_EQ(p->last_msn(), 11u);
  EXPECT_EQ(p->next_parts, 2u);
  EXPECT_EQ(p->target_duration, 2);
  EXPECT_FALSE(ParsePlaylistProgress("<MPD/>"));
  EXPECT_FALSE(ParsePlaylistProgress(""));
}

TEST(HlsPlaylistTest, WhatTheProgressSatisfies) {
  const auto p = *ParsePlaylistProgress(kPlaylist);
  EXPECT_TRUE(p.Satisfies({11, std::nullopt}));
  EXPECT_TRUE(p.Satisfies({5, std::nullopt}));
  EXPECT_FALSE(p.Satisfies({12, std::nullopt}));
  EXPECT_TRUE(p.Satisfies({12, 1}));                // parts 0 and 1 of segment 12 are listed
  EXPECT_FALSE(p.Satisfies({12, 2}));               // only hinted
  EXPECT_TRUE(p.Satisfies({11, 7}));                // segment 11 is complete
  EXPECT_FALSE(p.TooFarAhead({13, std::nullopt}));  // two beyond 11
  EXPECT_TRUE(p.TooFarAhead({14, std::nullopt}));
}

TEST(HlsPlaylistTest, BlockingQuery) {
  auto none = ParseBlockingReload("/ev/live.m3u8");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  auto other = ParseBlockingReload("/ev/live.m3u8?token=x");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*other);
  auto msn = ParseBlockingReload("/ev/live.m3u8?_HLS_msn=12&_HLS_part=1&x=y");
  ASSERT_TRUE(msn.ok());
  ASSERT_TRUE(*msn);
  EXPECT_EQ((*msn)->msn, 12u);
  EXPECT_EQ((*msn)->part, 1u);
  EXPECT_FALSE(ParseBlockingReload("/ev/live.m3u8?_HLS_part=1").ok());
  EXPECT_FALSE(ParseBlockingReload("/ev/live.m3u8?_HLS_msn=abc").ok());
  EXPECT_FALSE(ParseBlockingReload("/ev/live.m3u8?_HLS_msn=").ok());
  EXPECT_FALSE(ParseBlockingReload("/ev/live.m3u8?_HLS_msn=99999999999999999999").ok());
}

TEST(HlsPlaylistTest, PreloadHintPathsAreResolvedBelowTheEvent) {
  EXPECT_EQ(PreloadHintPaths(kPlaylist, "ev", "hls/live.m3u8"),
            std::vector<std::string>{"hls/seg_12.2.m4s"});
  EXPECT_EQ(PreloadHintPaths("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"/ev/a/p.m4s?x=1\"\n", "ev",
                             "live.m3u8"),
            std::vector<std::string>{"a/p.m4s"});
  EXPECT_TRUE(PreloadHintPaths("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"/other/p.m4s\"\n"
                               "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"http://x/p.m4s\"\n"
                               "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"../p.m4s\"\n"
                               "#EXT-X-PRELOAD-HINT:TYPE=PART\n",
                               "ev", "hls/live.m3u8")
                  .empty());
  std::string many;
  for (int i = 0; i < 20; ++i) many += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p.m4s\"\n";
  EXPECT_EQ(PreloadHintPaths(many, "ev", "live.m3u8").size(), 8u);
}

}  // namespace
}  // namespace liveorigin::core
