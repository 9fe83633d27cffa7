// Test support: the real liveorigin binary started on port 0 with a private
// configuration and data directory, plus a minimal blocking HTTP/1.1 client
// on raw sockets (so tests can also send broken framing on purpose).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace liveorigin::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const;  // "" when absent
};

// One keep-alive connection.
class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool Connect();
  bool connected() const { return fd_ >= 0; }
  // Writes raw bytes as they are.
  bool SendRaw(std::string_view bytes);
  // Reads one response; `head` = response to a HEAD (no body follows).
  std::optional<HttpResponse> ReadResponse(
      bool head = false, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // True when the peer closed the connection (reads EOF within `wait`).
  bool PeerClosed(std::chrono::milliseconds wait = std::chrono::milliseconds(500));

  // A full exchange. `chunked` sends the body with Transfer-Encoding: chunked
  // in pieces of `chunk_size`.
  std::optional<HttpResponse> Request(
      const std::string& method, const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers = {},
      const std::string& body = "", bool chunked = false, size_t chunk_size = 4096);

 private:
  bool ReadMore(std::chrono::steady_clock::time_point deadline);
  std::string host_;
  uint16_t port_;
  int fd_ = -1;
  std::string buffer_;
};

struct EventSpec {
  std::string id = "live";
  std::string yaml_extra;  // appended verbatim to the event file
};

// The daemon under test.
class TestDaemon {
 public:
  // Creates a temp directory with origin.yaml (ports 0) and events/.
  explicit TestDaemon(const std::string& name, const std::string& server_yaml_extra = "");
  ~TestDaemon();

  void WriteEvent(const std::string& id, const std::string& yaml);
  // Starts the daemon with this RLIMIT_NOFILE (set in the child before exec).
  void SetDescriptorLimit(uint64_t soft, uint64_t hard) { nofile_ = {soft, hard}; }
  // Exit status of a daemon that exited during Start() (-1: none, or killed).
  int start_exit_status() const { return start_exit_status_; }
  // Starts and waits until both listeners report their ports. False on failure
  // (the log is printed).
  bool Start();
  // SIGTERM and wait; returns the exit status (or -1).
  int Stop();
  // SIGKILL and reap.
  void Kill();

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  uint16_t admin_port() const { return admin_port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string Log() const;

  // Convenience: a fresh connection per call.
  std::optional<HttpResponse> Get(
      const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers = {});
  std::optional<HttpResponse> Put(
      const std::string& target, const std::string& body,
      const std::vector<std::pair<std::string, std::string>>& headers = {}, bool chunked = false);
  std::optional<HttpResponse> Admin(const std::string& target, const std::string& method = "GET");
  // Polls /metrics until the gauge liveorigin_held_requests reaches `n` (true)
  // or `timeout` passes (false). No fixed sleeps: slow machines wait longer.
  bool WaitForHeld(int n, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Polls `target` on the admin port until its body contains `text`.
  bool WaitForAdmin(const std::string& target, const std::string& text,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0, admin_port_ = 0;
  std::optional<std::pair<uint64_t, uint64_t>> nofile_;
  int start_exit_status_ = -1;
};

// "Basic base64(user:pass)"
std::string BasicAuth(const std::string& user, const std::string& pass);
// Current live-edge segment number for an epoch-anchored event of duration d.
uint64_t LiveEdgeNumber(std::chrono::milliseconds d);
std::string ReadFile(const std::filesystem::path& p);
std::string RandomBytes(size_t n, uint32_t seed);
// RFC 3339 UTC with milliseconds.
std::string Rfc3339(std::chrono::system_clock::time_point t);

}  // namespace liveorigin::testing
