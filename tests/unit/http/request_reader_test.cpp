// RequestReader: request framing without sockets, fed byte by byte and in one
// piece alike (SPEC §4.4: chunked uploads, pipelining, smuggling shapes).
#include "liveorigin/http/request_reader.h"

#include <gtest/gtest.h>

namespace liveorigin::http {
namespace {

using Event = RequestReader::Event;

struct Outcome {
  std::vector<core::Request> requests;  // completed requests (small bodies included)
  std::string sink;                     // bytes routed to the sink
  std::optional<RequestReader::Failure> failure;
  bool discard_limit = false;
};

// Feeds `input` in pieces of `step` bytes (0 = all at once), as a session
// would: unconsumed bytes stay and more are appended. PUT bodies go to the sink.
Outcome FeedAll(const std::string& input, size_t step, RequestReaderLimits limits = {}) {
  Outcome out;
  RequestReader reader(limits);
  std::string buffer;
  size_t fed = 0;
  for (int guard = 0; guard < 1000000; ++guard) {
    size_t consumed = 0;
    const Event e = reader.Feed(buffer, &consumed);
    switch (e) {
      case Event::kNeedMore:
        buffer.erase(0, consumed);
        if (fed == input.size()) return out;
        {
          const size_t n = step ? std::min(step, input.size() - fed) : input.size() - fed;
          buffer.append(input, fed, n);
          fed += n;
        }
        break;
      case Event::kHead:
        buffer.erase(0, consumed);
        reader.SetBodyMode(reader.request().method == "PUT" ? BodyMode::kSink : BodyMode::kSmall);
        break;
      case Event::kBody:
        for (auto piece : reader.body()) out.sink.append(piece);
        buffer.erase(0, consumed);
        break;
      case Event::kComplete:
        buffer.erase(0, consumed);
        out.requests.push_back(reader.request());
        reader.Start();
        break;
      case Event::kDiscardLimit:
        out.discard_limit = true;
        return out;
      case Event::kError:
        out.failure = reader.failure();
        return out;
    }
  }
  ADD_FAILURE() << "the reader made no progress";
  return out;
}

const std::string kChunkedPut =
    "PUT /ev/v/1.m4s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

TEST(RequestReaderTest, ChunkedUploadReachesTheSinkWhateverThePieceSize) {
  for (size_t step : {0, 1, 3, 7, 64}) {
    const Outcome o = FeedAll(kChunkedPut + "GET /ev/a.mpd HTTP/1.1\r\nHost: x\r\n\r\n", step);
    ASSERT_FALSE(o.failure) << step;
    EXPECT_EQ(o.sink, "hello world") << step;
    ASSERT_EQ(o.requests.size(), 2u) << "pipelined GET after the upload, step " << step;
    EXPECT_EQ(o.requests[0].method, "PUT");
    EXPECT_FALSE(o.requests[0].content_length.has_value());
    EXPECT_EQ(o.requests[1].target, "/ev/a.mpd");
  }
}

TEST(RequestReaderTest, SmallBodiesAreBufferedAndOversizedOnesFlagged) {
  const Outcome o = FeedAll("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 2);
  ASSERT_EQ(o.requests.size(), 1u);
  EXPECT_EQ(o.requests[0].body, "abc");
  EXPECT_EQ(o.requests[0].content_length, 3u);

  RequestReaderLimits small;
  small.max_small_body = 4;
  RequestReader reader(small);
  const std::string in =
      "DELETE /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n0\r\n\r\n";
  size_t consumed = 0;
  ASSERT_EQ(reader.Feed(in, &consumed), Event::kHead);
  reader.SetBodyMode(BodyMode::kSmall);
  size_t more = 0;
  EXPECT_EQ(reader.Feed(std::string_view(in).substr(consumed), &more), Event::kComplete);
  EXPECT_TRUE(reader.small_body_too_large());
  EXPECT_TRUE(reader.request().body.empty());
}

TEST(RequestReaderTest, FramingAttacksAreRefused) {
  struct Case {
    std::string input;
    int status;
  };
  const Case cases[] = {
      {"PUT /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400},  // not ending in chunked
      {"PUT /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", 400},
      {"PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"GARBAGE\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    for (size_t step : {0, 1}) {
      const Outcome o = FeedAll(c.input, step);
      ASSERT_TRUE(o.failure) << c.input;
      EXPECT_EQ(o.failure->status, c.status) << c.input;
    }
  }
}

TEST(RequestReaderTest, TheWholeHeadCountsAgainstTheLimitWhenFedInPieces) {
  RequestReaderLimits limits;
  limits.max_header_size = 4096;
  std::string many = "GET /x HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 500; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  for (size_t step : {0, 100, 4096}) {
    const Outcome o = FeedAll(many, step, limits);
    ASSERT_TRUE(o.failure) << step;
    EXPECT_EQ(o.failure->status, 431) << step;
  }
  const Outcome ok = FeedAll("GET /x HTTP/1.1\r\nHost: x\r\n\r\n", 1, limits);
  EXPECT_EQ(ok.requests.size(), 1u);
}

TEST(RequestReaderTest, DiscardedBodiesAreCountedUpToTheLimit) {
  RequestReaderLimits limits;
  limits.max_discard_bytes = 10;
  RequestReader reader(limits);
  const std::string in = "PUT /x HTTP/1.1\r\nContent-Length: 20\r\n\r\n" + std::string(20, 'z');
  size_t consumed = 0;
  ASSERT_EQ(reader.Feed(in, &consumed), Event::kHead);
  reader.SetBodyMode(BodyMode::kDiscard);
  size_t more = 0;
  EXPECT_EQ(reader.Feed(std::string_view(in).substr(consumed), &more), Event::kDiscardLimit);
  EXPECT_EQ(reader.discarded(), 20u);
}

TEST(RequestReaderTest, ExpectContinueAndKeepAliveAreReported) {
  RequestReader reader({});
  const std::string in = "PUT /x HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n";
  size_t consumed = 0;
  ASSERT_EQ(reader.Feed(in, &consumed), Event::kHead);
  EXPECT_TRUE(reader.expects_continue());
  EXPECT_FALSE(reader.keep_alive()) << "HTTP/1.0 without keep-alive";
  EXPECT_FALSE(reader.message_done());
  EXPECT_EQ(reader.FeedEof(), Event::kError) << "the body never came";
}

}  // namespace
}  // namespace liveorigin::http
