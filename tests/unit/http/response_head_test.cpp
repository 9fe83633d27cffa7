// The response head written on the wire (SPEC §5.2): framing headers follow
// the framing decision, and nothing a handler sets can split a response.
#include "liveorigin/http/response_head.h"

#include <gtest/gtest.h>

namespace liveorigin::http {
namespace {

constexpr std::string_view kDate = "Tue, 24 Nov 2026 09:00:00 GMT";

std::string Head(const core::Response& r, const ResponseFraming& f) {
  std::string out = "stale bytes from the previous response";
  SerializeResponseHead(r, f, kDate, &out);
  return out;
}

TEST(ResponseHeadTest, WritesStatusServerDateHeadersAndLength) {
  core::Response r;
  r.status = 200;
  r.headers = {{"Content-Type", "video/mp4"}, {"ETag", "\"abc\""}};
  ResponseFraming f;
  f.content_length = 65536;
  f.send_body = true;
  EXPECT_EQ(Head(r, f),
            "HTTP/1.1 200 OK\r\n"
            "Server: liveorigin\r\n"
            "Date: Tue, 24 Nov 2026 09:00:00 GMT\r\n"
            "Content-Type: video/mp4\r\n"
            "ETag: \"abc\"\r\n"
            "Content-Length: 65536\r\n"
            "\r\n");
}

TEST(ResponseHeadTest, ClosingConnectionSaysSoAndBodilessStatusHasNoLength) {
  core::Response r;
  r.status = 304;
  ResponseFraming f;  // no content length: 304
  f.keep_alive = false;
  EXPECT_EQ(Head(r, f),
            "HTTP/1.1 304 Not Modified\r\n"
            "Server: liveorigin\r\n"
            "Date: Tue, 24 Nov 2026 09:00:00 GMT\r\n"
            "Connection: close\r\n"
            "\r\n");
}

TEST(ResponseHeadTest, ZeroLengthBodyStillAnnouncesItsLength) {
  core::Response r;
  r.status = 404;
  ResponseFraming f;
  f.content_length = 0;
  const std::string head = Head(r, f);
  EXPECT_NE(head.find("HTTP/1.1 404 Not Found\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nContent-Length: 0\r\n\r\n"), std::string::npos) << head;
}

TEST(ResponseHeadTest, HeaderWithLineBreakOrNulIsLeftOut) {
  core::Response r;
  r.status = 200;
  r.headers = {{"X-Good", "yes"},
               {"X-Bad", "a\r\nSet-Cookie: x=1"},
               {"X-Bad\nName", "v"},
               {"X-Nul", std::string("a\0b", 3)},
               {"", "empty name"}};
  ResponseFraming f;
  f.content_length = 0;
  const std::string head = Head(r, f);
  EXPECT_NE(head.find("X-Good: yes\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("Set-Cookie"), std::string::npos) << head;
  EXPECT_EQ(head.find("X-Bad"), std::string::npos) << head;
  EXPECT_EQ(head.find("X-Nul"), std::string::npos) << head;
  EXPECT_EQ(head.find("empty name"), std::string::npos) << head;
}

TEST(ResponseHeadTest, UnknownStatusKeepsItsCode) {
  core::Response r;
  r.status = 599;
  ResponseFraming f;
  f.content_length = 0;
  EXPECT_EQ(Head(r, f).rfind("HTTP/1.1 599 ", 0), 0u);
}

}  // namespace
}  // namespace liveorigin::http
