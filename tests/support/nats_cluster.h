// Test support: a real NATS JetStream cluster of `size` nats-server
// processes on loopback ports, each with its own temporary store directory
// (SPEC §10 tests). Header-only.
//
// The binary is $LIVEORIGIN_NATS_SERVER, else nats-server on PATH, else
// /usr/sbin/nats-server. When none exists, Start() fails the calling test
// with a message saying so: a missing tool is an error, never a skip.
//
// Not thread-safe; one test thread drives it. The destructor kills every
// server it started and removes the directories.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace liveorigin::testing {

class NatsCluster {
 public:
  // `max_payload` 0 keeps the server default (1 MiB).
  explicit NatsCluster(size_t size = 3, uint64_t max_payload = 0)
      : size_(size), max_payload_(max_payload) {
    std::random_device rd;
    const std::string id = std::to_string(rd());
    dir_ = std::filesystem::temp_directory_path() / ("liveorigin-nats-" + id);
    // Its own cluster name: should two test clusters ever reach each other's
    // route ports, the servers refuse the route instead of merging.
    cluster_name_ = "liveorigin-test-" + id;
    std::filesystem::create_directories(dir_);
  }
  ~NatsCluster() {
    for (size_t i = 0; i < pids_.size(); ++i) Kill(i);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  static std::string FindServer() {
    if (const char* env = std::getenv("LIVEORIGIN_NATS_SERVER"); env && *env) return env;
    if (const char* path = std::getenv("PATH")) {
      std::string p = path;
      size_t start = 0;
      while (start <= p.size()) {
        const size_t end = std::min(p.find(':', start), p.size());
        const std::filesystem::path candidate =
            std::filesystem::path(p.substr(start, end - start)) / "nats-server";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
        start = end + 1;
      }
    }
    if (::access("/usr/sbin/nats-server", X_OK) == 0) return "/usr/sbin/nats-server";
    return "";
  }

  // Picks ports, writes the configurations and starts every server. Fails
  // the calling test (and returns false) when nats-server is missing.
  bool Start() {
    binary_ = FindServer();
    if (binary_.empty()) {
      ADD_FAILURE() << "nats-server not found (install the Debian package nats-server, or set "
                       "LIVEORIGIN_NATS_SERVER): the scale-out tests need a real NATS cluster";
      return false;
    }
    std::vector<uint16_t> taken;
    for (size_t i = 0; i < size_; ++i) {
      client_ports_.push_back(FreePort(&taken));
      cluster_ports_.push_back(FreePort(&taken));
    }
    pids_.assign(size_, -1);
    for (size_t i = 0; i < size_; ++i) {
      WriteConfig(i);
      if (!StartServer(i)) return false;
    }
    return true;
  }

  // SIGKILL of one server (its store directory stays for a restart).
  void Kill(size_t i) {
    if (i >= pids_.size() || pids_[i] <= 0) return;
    ::kill(pids_[i], SIGKILL);
    ::waitpid(pids_[i], nullptr, 0);
    pids_[i] = -1;
  }
  bool Restart(size_t i) { return StartServer(i); }

  size_t size() const { return size_; }
  std::string Url(size_t i) const {
    return "nats://127.0.0.1:" + std::to_string(client_ports_.at(i));
  }
  std::vector<std::string> Urls() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < size_; ++i) out.push_back(Url(i));
    return out;
  }
  // "[nats://…, nats://…]" for a YAML flow list.
  std::string YamlList() const {
    std::string out = "[";
    for (size_t i = 0; i < size_; ++i) out += (i ? ", " : "") + Url(i);
    return out + "]";
  }
  std::string Log(size_t i) const {
    std::ifstream in(dir_ / ("n" + std::to_string(i) + ".log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // For a failure message: whether each server still runs, and the end of
  // its log.
  std::string Describe() {
    std::string out;
    for (size_t i = 0; i < pids_.size(); ++i) {
      int status = 0;
      const bool exited = pids_[i] <= 0 || ::waitpid(pids_[i], &status, WNOHANG) == pids_[i];
      if (exited) pids_[i] = -1;
      std::string log = Log(i);
      if (log.size() > 1500) log = "..." + log.substr(log.size() - 1500);
      out += "\n--- n" + std::to_string(i) + (exited ? " (exited)" : " (running)") +
             ", client port " + std::to_string(client_ports_[i]) + ", cluster port " +
             std::to_string(cluster_ports_[i]) + ":\n" + log;
    }
    return out;
  }

 private:
  // A port that binds now, below Linux's ephemeral range (32768-60999): a
  // port the kernel handed out for binding to port 0 may be given to some
  // outgoing connection's local end before nats-server listens on it, which on
  // a busy machine (thousands of client connections) happens.
  static uint16_t FreePort(std::vector<uint16_t>* taken) {
    std::random_device rd;
    std::uniform_int_distribution<int> pick(20000, 32767);
    for (;;) {
      const auto port = static_cast<uint16_t>(pick(rd));
      if (std::find(taken->begin(), taken->end(), port) != taken->end()) continue;
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(port);
      const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (!ok) continue;
      taken->push_back(port);
      return port;
    }
  }

  void WriteConfig(size_t i) {
    const std::string name = "n" + std::to_string(i);
    std::ofstream out(dir_ / (name + ".conf"));
    out << "server_name: " << name << "\n"
        << "listen: 127.0.0.1:" << client_ports_[i] << "\n";
    if (max_payload_) out << "max_payload: " << max_payload_ << "\n";
    out << "jetstream {\n  store_dir: \"" << (dir_ / name).string() << "\"\n}\n"
        << "cluster {\n  name: " << cluster_name_ << "\n  listen: 127.0.0.1:" << cluster_ports_[i]
        << "\n  routes: [";
    for (size_t j = 0; j < size_; ++j) {
      if (j == i) continue;
      out << "\n    nats-route://127.0.0.1:" << cluster_ports_[j];
    }
    out << "\n  ]\n}\n";
  }

  bool StartServer(size_t i) {
    const std::string name = "n" + std::to_string(i);
    const std::string conf = (dir_ / (name + ".conf")).string();
    const std::string log = (dir_ / (name + ".log")).string();
    const pid_t pid = ::fork();
    if (pid < 0) {
      ADD_FAILURE() << "fork failed";
      return false;
    }
    if (pid == 0) {
      FILE* f = std::freopen(log.c_str(), "a", stdout);
      if (f) ::dup2(::fileno(stdout), 2);
      ::execl(binary_.c_str(), binary_.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids_[i] = pid;
    // Wait until the client port accepts connections.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pids_[i] = -1;
        ADD_FAILURE() << binary_ << " " << name << " exited at start; its log:\n" << Log(i);
        return false;
      }
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(client_ports_[i]);
      const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (ok) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << name << " does not accept connections; its log:\n" << Log(i);
    return false;
  }

  size_t size_;
  uint64_t max_payload_;
  std::filesystem::path dir_;
  std::string binary_;
  std::string cluster_name_;
  std::vector<uint16_t> client_ports_, cluster_ports_;
  std::vector<pid_t> pids_;
};

}  // namespace liveorigin::testing
