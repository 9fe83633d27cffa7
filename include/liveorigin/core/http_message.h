// Transport-neutral HTTP request and response values. The I/O layer (http
// module) converts Beast messages to and from these, so request logic is
// testable without sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liveorigin::core {

class LiveFollower;

using Body = std::shared_ptr<const std::string>;

struct Request {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // raw request target, e.g. "/demo/v1/3.m4s?x=1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;    // small bodies only (non-PUT requests); PUT bodies stream to an UploadSink
  std::string remote;  // peer address, for logs
  std::optional<uint64_t> content_length;  // declared length, when not chunked
  // HTTP/1.1 or later: a chunked answer can be sent (SPEC §9 followers).
  bool http11 = true;
  // When the request head arrived (steady clock; zero when unknown): CMSD `rd`.
  std::chrono::steady_clock::time_point received{};

  // First header with this name (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  Body body;            // shared, immutable; may be null for an empty body
  uint64_t offset = 0;  // slice of *body to send
  uint64_t length = 0;
  // When set, Content-Length announces this instead of `length` and no body is
  // sent (HEAD).
  std::optional<uint64_t> head_length;
  bool close = false;  // close the connection after writing
  // A delivery answer that gets CMSD-Dynamic when its head is written
  // (RequestHandler::Decorate), so `rd` covers everything up to then.
  bool cmsd_dynamic = false;
  // A GET following an upload in progress (SPEC §9): the body is streamed with
  // chunked framing as it arrives, instead of `body`.
  std::shared_ptr<LiveFollower> follow;

  void SetHeader(std::string name, std::string value);
  std::optional<std::string_view> Header(std::string_view name) const;
  void SetBody(std::string text, std::string content_type);
  void SetBody(Body body, uint64_t offset, uint64_t length);
  std::string_view BodyView() const;
  // The answer to a HEAD: announces the length a GET would get, sends no body.
  void ToHeadResponse();

  // {"error": code, "message": message} with the given status.
  static Response Error(int status, std::string_view code, std::string_view message);
  static Response Json(int status, const std::string& json_text);
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace liveorigin::core
