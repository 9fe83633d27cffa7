// Fan-out of one upload in progress to many followers (SPEC §9).
//
//   follow_fanout_bench PORT TARGET FOLLOWERS SIZE CHUNKS [ORIGIN_PID]
//
// Starts a chunked PUT of SIZE bytes to TARGET (X-Live-Pipeline: a) whose
// first piece is a styp+moof+mdat header (so the upload can be followed),
// opens FOLLOWERS GETs that follow it, then sends the rest in CHUNKS pieces,
// 40 ms apart (one frame at 25 fps). For every piece it records the time from
// the moment the piece was written to the moment the last follower had
// decoded it; prints p50/p99/max of that, and the origin's RSS (VmRSS) before
// the followers connected and at the end when ORIGIN_PID is given. The
// payload is not a real segment, so followers end without the terminating
// chunk once the origin inspects the complete upload: only delivery is
// measured. One client thread decodes every follower, so on a small machine
// the figure includes the client's own work.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      std::perror("send");
      std::exit(1);
    }
    off += static_cast<size_t>(n);
  }
}

std::string Box(const char* type, size_t size) {
  std::string b(8, '\0');
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((size >> (24 - 8 * i)) & 0xFF);
  b.replace(4, 4, type, 4);
  return b;
}

long RssKiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// Decodes one follower's chunked answer as it arrives, counting body bytes.
struct Follower {
  enum class State { kHead, kSize, kData, kCrlf, kDone };
  int fd = -1;
  State state = State::kHead;
  std::string line;   // head or chunk-size line being collected
  uint64_t left = 0;  // bytes left in the current chunk (or its CRLF)
  uint64_t body = 0;
  bool head() const { return state != State::kHead; }

  void Feed(const char* p, size_t n) {
    while (n > 0) {
      switch (state) {
        case State::kHead:
        case State::kSize: {
          line.push_back(*p++);
          --n;
          const std::string_view end = state == State::kHead ? "\r\n\r\n" : "\r\n";
          if (line.size() < end.size() ||
              line.compare(line.size() - end.size(), end.size(), end) != 0)
            break;
          if (state == State::kHead) {
            state = State::kSize;
          } else {
            left = std::strtoull(line.c_str(), nullptr, 16);
            state = left == 0 ? State::kDone : State::kData;
          }
          line.clear();
          break;
        }
        case State::kData: {
          const size_t take = static_cast<size_t>(std::min<uint64_t>(left, n));
          body += take;
          left -= take;
          p += take;
          n -= take;
          if (left == 0) {
            state = State::kCrlf;
            left = 2;
          }
          break;
        }
        case State::kCrlf: {
          const size_t take = static_cast<size_t>(std::min<uint64_t>(left, n));
          left -= take;
          p += take;
          n -= take;
          if (left == 0) state = State::kSize;
          break;
        }
        case State::kDone:
          return;
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s PORT TARGET FOLLOWERS SIZE CHUNKS [ORIGIN_PID]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string target = argv[2];
  const int count = std::atoi(argv[3]);
  const size_t size = std::strtoull(argv[4], nullptr, 10);
  const int chunks = std::atoi(argv[5]);
  const int pid = argc > 6 ? std::atoi(argv[6]) : 0;

  // styp, a small moof, then one mdat holding the rest.
  std::string first = Box("styp", 24) + "msdh" + std::string(4, '\0') + "msdhmsix";
  first += Box("moof", 16) + std::string(8, '\0');
  const size_t payload = size - first.size() - 8;
  first += Box("mdat", payload + 8);
  std::string data(payload, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);

  const int up = Connect(port);
  SendAll(up, "PUT " + target +
                  " HTTP/1.1\r\nHost: bench\r\nX-Live-Pipeline: a\r\nTransfer-Encoding: "
                  "chunked\r\n\r\n");
  auto send_piece = [&](const std::string& piece) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%zx\r\n", piece.size());
    SendAll(up, hex + piece + "\r\n");
  };
  send_piece(first);
  const long rss_before = pid ? RssKiB(pid) : -1;

  std::vector<Follower> f(static_cast<size_t>(count));
  std::vector<pollfd> pfds(f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    f[i].fd = Connect(port);
    SendAll(f[i].fd, "GET " + target + " HTTP/1.1\r\nHost: bench\r\n\r\n");
    pfds[i] = {f[i].fd, POLLIN, 0};
  }
  std::vector<char> buf(1 << 20);
  auto pump = [&](uint64_t want, Clock::time_point deadline) {
    for (;;) {
      bool all = true;
      for (const auto& x : f) all = all && x.head() && x.body >= want;
      if (all) return true;
      const int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      if (left <= 0) return false;
      if (::poll(pfds.data(), pfds.size(), std::min(left, 100)) <= 0) continue;
      for (size_t i = 0; i < f.size(); ++i) {
        if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::recv(f[i].fd, buf.data(), buf.size(), 0);
        if (n > 0) f[i].Feed(buf.data(), static_cast<size_t>(n));
        if (n == 0) pfds[i].fd = -1;
      }
    }
  };
  if (!pump(0, Clock::now() + std::chrono::seconds(60))) {
    std::fprintf(stderr, "not every follower got a response head\n");
    return 1;
  }
  std::vector<double> ms;
  const size_t piece = (data.size() + chunks - 1) / chunks;
  uint64_t sent = 0;
  auto next = Clock::now();
  for (size_t off = 0; off < data.size(); off += piece) {
    std::this_thread::sleep_until(next);
    next += std::chrono::milliseconds(40);
    const std::string p = data.substr(off, piece);
    const auto t0 = Clock::now();
    send_piece(p);
    sent += p.size();
    if (!pump(sent, Clock::now() + std::chrono::seconds(30))) {
      std::fprintf(stderr, "followers did not get piece at %zu\n", off);
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const long rss_after = pid ? RssKiB(pid) : -1;
  SendAll(up, "0\r\n\r\n");
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double q) { return ms[std::min(ms.size() - 1, size_t(q * ms.size()))]; };
  std::printf(
      "followers=%d size=%zu pieces=%zu piece->all followers ms: p50=%.2f p99=%.2f max=%.2f", count,
      size, ms.size(), pct(0.5), pct(0.99), ms.back());
  if (pid) {
    std::printf(" origin RSS KiB: before=%ld with followers=%ld (+%.1f MiB)", rss_before, rss_after,
                (rss_after - rss_before) / 1024.0);
  }
  std::printf("\n");
  for (auto& x : f) ::close(x.fd);
  ::close(up);
  return 0;
}
