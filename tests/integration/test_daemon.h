// Test support: the real liveorigin binary started on port 0 with a private
// configuration and data directory, plus a minimal blocking HTTP/1.1 client
// on raw sockets (so tests can also send broken framing on purpose).
//
// Timing: nothing here asserts a duration. Every wait polls for a condition
// and gives up only after a generous deadline (kPatience, multiplied by the
// environment variable LIVEORIGIN_TEST_TIME_SCALE when set), so a busy CI
// machine makes tests slower, never red.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "liveorigin/storage/candidate_record.h"

namespace liveorigin::testing {

// How long a test waits for something that should happen "at once" before it
// gives up (a deadline, not an expectation).
inline constexpr std::chrono::milliseconds kPatience{60000};
// `base` multiplied by LIVEORIGIN_TEST_TIME_SCALE (default 1).
std::chrono::milliseconds Scaled(std::chrono::milliseconds base);
// Polls `condition` every 10 ms until it holds (true) or Scaled(timeout) passed.
bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = kPatience);

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
  // `timeout` (scaled) bounds the wait; held requests need hold.max_wait plus slack.
  std::optional<HttpResponse> ReadResponse(bool head = false,
                                           std::chrono::milliseconds timeout = kPatience);
  // True when the peer closes the connection within Scaled(wait): returns as
  // soon as EOF arrives, so only a connection that stays open costs the wait.
  bool PeerClosed(std::chrono::milliseconds wait = std::chrono::seconds(10));

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
  // Sends `signo` to the running daemon.
  void Signal(int signo);
  // Waits for the daemon to exit (reaps it); its exit status, or -1 when it
  // was killed by a signal or did not exit within Scaled(timeout) (then it is killed).
  int WaitExit(std::chrono::milliseconds timeout = kPatience);

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  uint16_t admin_port() const { return admin_port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path data_dir() const { return dir_ / "data"; }
  std::string Log() const;
  // The log written since the last Start() (the file is appended across restarts).
  std::string LogSinceStart() const;
  // Polls the log since the last start until it contains `text`.
  bool WaitForLog(const std::string& text, std::chrono::milliseconds timeout = kPatience);

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
  bool WaitForHeld(int n, std::chrono::milliseconds timeout = kPatience);
  // Polls `target` on the admin port until its body contains `text`.
  bool WaitForAdmin(const std::string& target, const std::string& text,
                    std::chrono::milliseconds timeout = kPatience);
  // The value of one sample of /metrics, named exactly as exposed (e.g.
  // `liveorigin_config_reloads_total{result="error"}`); nullopt when absent.
  std::optional<double> Metric(const std::string& series);

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0, admin_port_ = 0;
  std::optional<std::pair<uint64_t, uint64_t>> nofile_;
  int start_exit_status_ = -1;
  size_t log_offset_ = 0;
};

// The value of `series` in a Prometheus text exposition, or nullopt.
std::optional<double> MetricValue(const std::string& exposition, const std::string& series);

// Every candidate record in a data directory, read with the store's own API.
// The daemon using it must be stopped (RocksDB locks its directory). Fails the
// calling test (and returns nothing) when the store cannot be opened.
std::vector<storage::CandidateRecord> StoredCandidates(const std::filesystem::path& data_dir);
// Bytes used by the files under `dir`.
uint64_t DirectoryBytes(const std::filesystem::path& dir);

// Runs the liveorigin binary with `args` and waits for it; returns its exit
// status and puts stdout+stderr in *output.
int RunLiveorigin(const std::vector<std::string>& args, std::string* output);

// Raises this process's RLIMIT_NOFILE soft limit to at least `wanted` (up to
// the hard limit); returns the soft limit now in force. Daemons started
// afterwards inherit it.
uint64_t RaiseFileLimit(uint64_t wanted);

// An RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") as seconds since
// the epoch, or nullopt.
std::optional<int64_t> ParseHttpDate(const std::string& text);

// "Basic base64(user:pass)"
std::string BasicAuth(const std::string& user, const std::string& pass);
// Current live-edge segment number for an epoch-anchored event of duration d.
uint64_t LiveEdgeNumber(std::chrono::milliseconds d);
std::string ReadFile(const std::filesystem::path& p);
std::string RandomBytes(size_t n, uint32_t seed);
// RFC 3339 UTC with milliseconds.
std::string Rfc3339(std::chrono::system_clock::time_point t);

}  // namespace liveorigin::testing
