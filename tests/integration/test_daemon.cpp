#include "test_daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "liveorigin/common/bytes.h"
#include "liveorigin/common/units.h"
#include "liveorigin/storage/rocksdb_segment_store.h"

namespace liveorigin::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::chrono::milliseconds Scaled(std::chrono::milliseconds base) {
  static const double scale = [] {
    const char* s = ::getenv("LIVEORIGIN_TEST_TIME_SCALE");
    const double v = s ? std::atof(s) : 1.0;
    return v >= 1.0 ? v : 1.0;
  }();
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(base.count()) * scale));
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

std::string HttpResponse::Header(const std::string& name) const {
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  auto it = headers.find(lower);
  return it == headers.end() ? "" : it->second;
}

HttpClient::HttpClient(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}
HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpClient::Connect() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool HttpClient::SendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool HttpClient::ReadMore(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

bool HttpClient::PeerClosed(std::chrono::milliseconds wait) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(Scaled(wait).count())) <= 0) return false;
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

std::optional<HttpResponse> HttpClient::ReadResponse(bool head, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(deadline)) return std::nullopt;
  }
  HttpResponse r;
  std::istringstream lines(buffer_.substr(0, end));
  std::string line;
  std::getline(lines, line);
  if (line.size() < 12) return std::nullopt;
  r.status = std::stoi(line.substr(9, 3));
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  buffer_.erase(0, end + 4);
  size_t length = 0;
  if (!head && r.status >= 200 && r.status != 204 && r.status != 304 &&
      !r.Header("content-length").empty()) {
    length = std::stoull(r.Header("content-length"));
  }
  while (buffer_.size() < length) {
    if (!ReadMore(deadline)) return std::nullopt;
  }
  r.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return r;
}

std::optional<HttpResponse> HttpClient::Request(
    const std::string& method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
    bool chunked, size_t chunk_size) {
  if (fd_ < 0 && !Connect()) return std::nullopt;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (chunked) {
    req += "Transfer-Encoding: chunked\r\n\r\n";
    for (size_t off = 0; off < body.size(); off += chunk_size) {
      const size_t n = std::min(chunk_size, body.size() - off);
      char hex[32];
      std::snprintf(hex, sizeof hex, "%zx\r\n", n);
      req += hex;
      req.append(body, off, n);
      req += "\r\n";
    }
    req += "0\r\n\r\n";
  } else if (!body.empty() || method == "PUT" || method == "POST") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  } else {
    req += "\r\n";
  }
  if (!SendRaw(req)) return std::nullopt;
  return ReadResponse(method == "HEAD");
}

TestDaemon::TestDaemon(const std::string& name, const std::string& server_yaml_extra) {
  std::random_device rd;
  dir_ = fs::temp_directory_path() /
         ("liveorigin-it-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(dir_ / "events");
  // Defaults for keys the test does not set itself (duplicate keys are errors).
  auto sets = [&](const std::string& key) {
    return server_yaml_extra.rfind(key + ":", 0) == 0 ||
           server_yaml_extra.find("\n" + key + ":") != std::string::npos;
  };
  std::ofstream(dir_ / "origin.yaml")
      << "listen: 127.0.0.1:0\n"
      << "admin_listen: 127.0.0.1:0\n"
      << "data_dir: " << (dir_ / "data").string() << "\n"
      << "events_dir: " << (dir_ / "events").string() << "\n"
      << (sets("threads") ? "" : "threads: 2\n")
      << (sets("cache_size") ? "" : "cache_size: 64MiB\n") << server_yaml_extra;
}

TestDaemon::~TestDaemon() {
  if (pid_ > 0) Kill();
  std::error_code ec;
  if (!::getenv("LIVEORIGIN_KEEP_TEST_DIRS")) fs::remove_all(dir_, ec);
}

void TestDaemon::WriteEvent(const std::string& id, const std::string& yaml) {
  std::ofstream(dir_ / "events" / (id + ".yaml")) << yaml;
}

std::string TestDaemon::Log() const { return ReadFile(dir_ / "daemon.log"); }

std::string TestDaemon::LogSinceStart() const {
  const std::string all = Log();
  return all.substr(std::min(log_offset_, all.size()));
}

bool TestDaemon::WaitForLog(const std::string& text, std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return LogSinceStart().find(text) != std::string::npos; }, timeout);
}

bool TestDaemon::Start() {
  port_ = admin_port_ = 0;
  const fs::path log = dir_ / "daemon.log";
  const size_t log_offset = fs::exists(log) ? fs::file_size(log) : 0;
  log_offset_ = log_offset;
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 2);
    ::dup2(fd, 1);
    if (nofile_) {
      const rlimit rl{static_cast<rlim_t>(nofile_->first), static_cast<rlim_t>(nofile_->second)};
      if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) ::_exit(126);
    }
    const std::string config = (dir_ / "origin.yaml").string();
    ::execl(LIVEORIGIN_BINARY, LIVEORIGIN_BINARY, "--config", config.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  static const std::regex kListening(R"(listening on [0-9.]+:(\d+) .*admin on [0-9.]+:(\d+))");
  const auto deadline = std::chrono::steady_clock::now() + Scaled(kPatience);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = LogSinceStart();
    std::smatch m;
    if (std::regex_search(text, m, kListening)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1]));
      admin_port_ = static_cast<uint16_t>(std::stoi(m[2]));
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      start_exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      std::cerr << "daemon exited during start-up:\n" << Log() << std::endl;
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::cerr << "daemon did not report its ports:\n" << Log() << std::endl;
  return false;
}

int TestDaemon::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void TestDaemon::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void TestDaemon::Signal(int signo) {
  if (pid_ > 0) ::kill(pid_, signo);
}

int TestDaemon::WaitExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  int status = 0;
  const bool exited = WaitUntil([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!exited) {
    Kill();
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::optional<HttpResponse> TestDaemon::Get(
    const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpClient c("127.0.0.1", port_);
  return c.Request("GET", target, headers);
}

std::optional<HttpResponse> TestDaemon::Put(
    const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, bool chunked) {
  HttpClient c("127.0.0.1", port_);
  return c.Request("PUT", target, headers, body, chunked);
}

std::optional<HttpResponse> TestDaemon::Admin(const std::string& target,
                                              const std::string& method) {
  HttpClient c("127.0.0.1", admin_port_);
  return c.Request(method, target);
}

bool TestDaemon::WaitForHeld(int n, std::chrono::milliseconds timeout) {
  return WaitForAdmin("/metrics", "\nliveorigin_held_requests " + std::to_string(n) + "\n",
                      timeout);
}

bool TestDaemon::WaitForAdmin(const std::string& target, const std::string& text,
                              std::chrono::milliseconds timeout) {
  return WaitUntil(
      [&] {
        auto r = Admin(target);
        return r && r->body.find(text) != std::string::npos;
      },
      timeout);
}

std::optional<double> TestDaemon::Metric(const std::string& series) {
  auto r = Admin("/metrics");
  if (!r || r->status != 200) return std::nullopt;
  return MetricValue(r->body, series);
}

std::optional<double> MetricValue(const std::string& exposition, const std::string& series) {
  const std::string key = series + " ";
  size_t at = exposition.rfind(key, 0) == 0 ? 0 : exposition.find("\n" + key);
  if (at == std::string::npos) return std::nullopt;
  if (at != 0) ++at;
  const size_t end = exposition.find('\n', at);
  return std::strtod(exposition.substr(at + key.size(), end - at - key.size()).c_str(), nullptr);
}

std::vector<storage::CandidateRecord> StoredCandidates(const fs::path& data_dir) {
  std::vector<storage::CandidateRecord> out;
  auto store = storage::RocksDbSegmentStore::Open({data_dir, false, 0});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return out;
  Status st = (*store)->ForEachCandidate(
      [&](storage::CandidateRecord&& r) { out.push_back(std::move(r)); });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

uint64_t DirectoryBytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    std::error_code e2;
    if (e.is_regular_file(e2)) total += e.file_size(e2);
  }
  return total;
}

int RunLiveorigin(const std::vector<std::string>& args, std::string* output) {
  char name[] = "/tmp/liveorigin-run-XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(LIVEORIGIN_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(LIVEORIGIN_BINARY, argv.data());
    ::_exit(127);
  }
  ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  *output = ReadFile(name);
  ::unlink(name);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

uint64_t RaiseFileLimit(uint64_t wanted) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < wanted) {
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

std::optional<int64_t> ParseHttpDate(const std::string& text) {
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm));
}

std::string BasicAuth(const std::string& user, const std::string& pass) {
  return "Basic " + Base64Encode(user + ":" + pass);
}

uint64_t LiveEdgeNumber(std::chrono::milliseconds d) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return static_cast<uint64_t>(now / d.count()) - 1;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

std::string Rfc3339(std::chrono::system_clock::time_point t) { return FormatTimestamp(t); }

}  // namespace liveorigin::testing
