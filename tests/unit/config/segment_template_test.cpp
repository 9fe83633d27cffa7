#include "liveorigin/config/segment_template.h"

#include <gtest/gtest.h>

#include <string>

namespace liveorigin::config {
namespace {

SegmentTemplate MustCompile(std::string_view pattern) {
  auto t = SegmentTemplate::Compile(pattern);
  EXPECT_TRUE(t.ok()) << pattern << ": " << t.status().ToString();
  return t.ok() ? *t : SegmentTemplate();
}

// Expects `pattern` to be rejected with a message containing `fragment`.
void ExpectCompileError(std::string_view pattern, std::string_view fragment) {
  auto t = SegmentTemplate::Compile(pattern);
  ASSERT_FALSE(t.ok()) << pattern << " compiled";
  EXPECT_NE(t.status().message().find(fragment), std::string::npos)
      << pattern << ": " << t.status().message();
}

void ExpectMatch(const SegmentTemplate& t, std::string_view path, std::string_view rep,
                 std::optional<uint64_t> number) {
  auto m = t.Matches(path);
  ASSERT_TRUE(m.has_value()) << t.pattern() << " should match " << path;
  EXPECT_EQ(m->representation_id, rep) << t.pattern() << " / " << path;
  EXPECT_EQ(m->number, number) << t.pattern() << " / " << path;
}

TEST(SegmentTemplateTest, FfmpegDefaultMediaTemplate) {
  const auto t = MustCompile("chunk-stream$RepresentationID$-$Number%05d$.m4s");
  EXPECT_TRUE(t.has_number());
  EXPECT_TRUE(t.has_representation_id());
  ExpectMatch(t, "chunk-stream0-00001.m4s", "0", 1);
  ExpectMatch(t, "chunk-stream10-123456.m4s", "10", 123456);
  ExpectMatch(t, "chunk-stream3-00000.m4s", "3", 0);
  EXPECT_EQ(t.Format("0", 1), "chunk-stream0-00001.m4s");
  EXPECT_EQ(t.Format("10", 123456), "chunk-stream10-123456.m4s");
}

TEST(SegmentTemplateTest, FfmpegDefaultInitTemplate) {
  const auto t = MustCompile("init-stream$RepresentationID$.m4s");
  EXPECT_FALSE(t.has_number());
  ExpectMatch(t, "init-stream0.m4s", "0", std::nullopt);
  ExpectMatch(t, "init-stream12.m4s", "12", std::nullopt);
  EXPECT_FALSE(t.Matches("init-stream.m4s"));
  EXPECT_FALSE(t.Matches("chunk-stream0-00001.m4s"));
  EXPECT_EQ(t.Format("1", 99), "init-stream1.m4s");
}

TEST(SegmentTemplateTest, HlsStyleWithoutRepresentation) {
  const auto t = MustCompile("seg_$Number%05d$.m4s");
  EXPECT_FALSE(t.has_representation_id());
  ExpectMatch(t, "seg_00042.m4s", "", 42);
  ExpectMatch(t, "seg_42.m4s", "", 42);  // padding is not required on input
  ExpectMatch(t, "seg_1234567.m4s", "", 1234567);
  EXPECT_EQ(t.Format("ignored", 42), "seg_00042.m4s");
  EXPECT_EQ(t.Format("", 1234567), "seg_1234567.m4s");
}

TEST(SegmentTemplateTest, DirectoryPerRepresentation) {
  const auto t = MustCompile("$RepresentationID$/$Number$.m4s");
  ExpectMatch(t, "video_1080p/17.m4s", "video_1080p", 17);
  ExpectMatch(t, "a/0.m4s", "a", 0);
  EXPECT_FALSE(t.Matches("a/b/17.m4s"));  // representation ids never contain '/'
  EXPECT_FALSE(t.Matches("/17.m4s"));
  EXPECT_EQ(t.Format("audio", 5), "audio/5.m4s");
}

TEST(SegmentTemplateTest, NestedDirectories) {
  const auto t = MustCompile("video/$RepresentationID$/seg-$Number$.m4s");
  ExpectMatch(t, "video/hd/seg-3.m4s", "hd", 3);
  ExpectMatch(t, "video/seg-1/seg-3.m4s", "seg-1", 3);
  EXPECT_FALSE(t.Matches("audio/hd/seg-3.m4s"));
  EXPECT_FALSE(t.Matches("video/hd/seg-.m4s"));
  EXPECT_EQ(t.Format("sd", 9), "video/sd/seg-9.m4s");
}

TEST(SegmentTemplateTest, LeadingZeros) {
  const auto t = MustCompile("$RepresentationID$/$Number$.m4s");
  ExpectMatch(t, "v/00042.m4s", "v", 42);
  ExpectMatch(t, "v/0000000000000000000000000000042.m4s", "v", 42);  // > 20 digits, small value
  ExpectMatch(t, "v/000.m4s", "v", 0);
}

TEST(SegmentTemplateTest, NumberLimits) {
  const auto t = MustCompile("$Number$.m4s");
  ExpectMatch(t, "9223372036854775807.m4s", "", 9223372036854775807ull);  // 2^63 - 1
  EXPECT_FALSE(t.Matches("9223372036854775808.m4s"));                     // 2^63
  EXPECT_FALSE(t.Matches("18446744073709551616.m4s"));                    // 2^64
  EXPECT_FALSE(t.Matches("99999999999999999999999.m4s"));
}

TEST(SegmentTemplateTest, NonMatchingNames) {
  const auto t = MustCompile("chunk-stream$RepresentationID$-$Number%05d$.m4s");
  for (std::string_view path :
       {"", "chunk-stream0-.m4s", "chunk-stream-00001.m4s", "chunk-stream0-0000a.m4s",
        "chunk-stream0-00001.m4s.tmp", "xchunk-stream0-00001.m4s", "chunk-stream0-00001.mp4",
        "chunk-stream0/1-00001.m4s", "manifest.mpd", "init-stream0.m4s", "chunk-stream0-+0001.m4s",
        "chunk-stream0-1 .m4s"}) {
    EXPECT_FALSE(t.Matches(path)) << path;
  }
}

TEST(SegmentTemplateTest, BacktracksOverLiteralsInRepresentationId) {
  // The representation id itself contains the separator "-".
  const auto t = MustCompile("chunk-stream$RepresentationID$-$Number%05d$.m4s");
  ExpectMatch(t, "chunk-streamv-1-00007.m4s", "v-1", 7);
  ExpectMatch(t, "chunk-stream-1-00007.m4s", "-1", 7);
  ExpectMatch(t, "chunk-stream0--1.m4s", "0-", 1);
  // A literal that starts with digits after the number.
  const auto u = MustCompile("$Number$00.m4s");
  ExpectMatch(u, "1200.m4s", "", 12);
  ExpectMatch(u, "10000.m4s", "", 100);
  EXPECT_FALSE(u.Matches("00.m4s"));
}

TEST(SegmentTemplateTest, LeftmostShortestRepresentationId) {
  // The shortest id that lets the rest of the path match wins.
  const auto t = MustCompile("$RepresentationID$-$Number$-x.m4s");
  ExpectMatch(t, "a-1-x.m4s", "a", 1);
  ExpectMatch(t, "a-1-2-x.m4s", "a-1", 2);
  const auto v = MustCompile("r$RepresentationID$x$Number$");
  ExpectMatch(v, "rax1x2", "ax1", 2);  // "a" would leave "1x2" for the number
  // Two complete splits exist ("x" + 121 and "x1" + 21): the shortest id wins.
  const auto w = MustCompile("r$RepresentationID$1$Number$");
  ExpectMatch(w, "rx1121", "x", 121);
}

TEST(SegmentTemplateTest, DotSegmentsAreNotRepresentationIds) {
  const auto t = MustCompile("$RepresentationID$/$Number$.m4s");
  EXPECT_FALSE(t.Matches("../1.m4s"));
  EXPECT_FALSE(t.Matches("./1.m4s"));
  ExpectMatch(t, "...a/1.m4s", "...a", 1);
}

TEST(SegmentTemplateTest, NumberFormats) {
  ExpectMatch(MustCompile("s$Number%d$.m4s"), "s7.m4s", "", 7);
  EXPECT_EQ(MustCompile("s$Number%d$.m4s").Format("", 7), "s7.m4s");
  EXPECT_EQ(MustCompile("s$Number%01d$").Format("", 7), "s7");
  EXPECT_EQ(MustCompile("s$Number%09d$").Format("", 7), "s000000007");
  EXPECT_EQ(MustCompile("s$Number%020d$").Format("", 7), "s00000000000000000007");
  EXPECT_EQ(MustCompile("s$Number%03d$").Format("", 123456), "s123456");  // wider than pad
  EXPECT_EQ(MustCompile("s$Number$").Format("", 0), "s0");
  ExpectMatch(MustCompile("s$Number%020d$"), "s00000000000000000007", "", 7);
}

TEST(SegmentTemplateTest, DollarEscape) {
  const auto t = MustCompile("price$$/$RepresentationID$/$Number$$$.m4s");
  EXPECT_EQ(t.Format("r", 3), "price$/r/3$.m4s");
  ExpectMatch(t, "price$/r/3$.m4s", "r", 3);
  EXPECT_FALSE(t.Matches("price$$/r/3$$.m4s"));
  // "$$" counts as a literal between two variables.
  const auto u = MustCompile("$RepresentationID$$$$Number$");
  ExpectMatch(u, "a$12", "a", 12);
  EXPECT_EQ(u.Format("a", 12), "a$12");
}

TEST(SegmentTemplateTest, LiteralOnlyTemplate) {
  const auto t = MustCompile("manifest.mpd");
  EXPECT_FALSE(t.has_number());
  EXPECT_FALSE(t.has_representation_id());
  ExpectMatch(t, "manifest.mpd", "", std::nullopt);
  EXPECT_FALSE(t.Matches("manifest.mpdx"));
  EXPECT_EQ(t.Format("x", 1), "manifest.mpd");
}

TEST(SegmentTemplateTest, DefaultConstructedIsEmptyAndMatchesNothing) {
  SegmentTemplate t;
  EXPECT_TRUE(t.empty());
  EXPECT_FALSE(t.Matches(""));
  EXPECT_FALSE(t.Matches("a"));
}

TEST(SegmentTemplateTest, UnknownIdentifiersAreErrors) {
  ExpectCompileError("$RepresentationID$/$Time$.m4s", "'$Time$' at offset 19");
  ExpectCompileError("$Bandwidth$/$Number$.m4s", "'$Bandwidth$' at offset 0");
  ExpectCompileError("$representationid$/$Number$.m4s", "'$representationid$'");
  ExpectCompileError("$SubNumber$/$Number$.m4s", "'$SubNumber$'");
  ExpectCompileError("$RepresentationID%05d$/$Number$.m4s", "'$RepresentationID%05d$'");
}

TEST(SegmentTemplateTest, UnterminatedDollarIsAnError) {
  ExpectCompileError("seg-$Number$-$RepresentationID", "unterminated '$' at offset 13");
  ExpectCompileError("seg$", "unterminated '$' at offset 3");
}

TEST(SegmentTemplateTest, BadNumberFormatsAreErrors) {
  ExpectCompileError("$Number%5d$", "'$Number%5d$'");      // no zero flag
  ExpectCompileError("$Number%00d$", "'$Number%00d$'");    // width 0
  ExpectCompileError("$Number%021d$", "'$Number%021d$'");  // width > 20
  ExpectCompileError("$Number%0xd$", "'$Number%0xd$'");
  ExpectCompileError("$Number%05$", "'$Number%05$'");
  ExpectCompileError("$Number%05x$", "'$Number%05x$'");
  ExpectCompileError("$Numbers$", "'$Numbers$'");
}

TEST(SegmentTemplateTest, AdjacentVariablesAreAmbiguous) {
  ExpectCompileError("$RepresentationID$$Number$.m4s", "ambiguous");
  ExpectCompileError("$Number%05d$$RepresentationID$", "ambiguous");
}

TEST(SegmentTemplateTest, RepeatedVariablesAreErrors) {
  ExpectCompileError("$Number$/$Number$.m4s", "'$Number$' appears twice (offset 9)");
  ExpectCompileError("$RepresentationID$/$RepresentationID$-$Number$", "appears twice");
}

TEST(SegmentTemplateTest, EmptyAndAbsoluteTemplatesAreErrors) {
  ExpectCompileError("", "empty");
  ExpectCompileError("/$Number$.m4s", "relative");
}

// Found by fuzzing: "$Number$2$RepresentationID$.m4s" rendered ("v1", 42) as
// "422v1.m4s", which matched back as ("2v1", 4).
TEST(SegmentTemplateTest, DigitRightAfterNumberIsRefusedAsAmbiguous) {
  auto bad = SegmentTemplate::Compile("$Number$2$RepresentationID$.m4s");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ambiguous"), std::string::npos);
  EXPECT_FALSE(SegmentTemplate::Compile("$Number%05d$0-$RepresentationID$.m4s").ok());
  EXPECT_TRUE(SegmentTemplate::Compile("seg$Number%05d$0.m4s").ok()) << "fixed text only: unique";
  EXPECT_TRUE(SegmentTemplate::Compile("$Number$_2$RepresentationID$.m4s").ok());
}

}  // namespace
}  // namespace liveorigin::config
