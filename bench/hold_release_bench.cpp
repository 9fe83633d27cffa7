// Holds COUNT GET requests on a segment that is not there yet, PUTs it once,
// and reports (1) when the PUT's answer arrived and (2) when each held GET had
// received its whole response (head and body), both after the PUT was sent.
// Then, as the floor to compare with, it sends COUNT fresh GETs for the same,
// now published segment on COUNT already-open connections and reports when
// the last whole response arrived after the first request was written.
//
//   hold_release_bench PORT ADMIN_PORT TARGET COUNT BODY_FILE
//
// The event must accept PUTs with "X-Live-Pipeline: a" and TARGET must be due
// within one segment duration (so GETs are held). BODY_FILE should be a clean
// media segment: a defective one is not served before its availability time.
// Prints one line of figures.
// Boost 1.74 asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string Exchange(uint16_t port, const std::string& request) {
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), port});
  net::write(s, net::buffer(request));
  std::string out;
  boost::system::error_code ec;
  char buf[65536];
  for (;;) {
    const size_t n = s.read_some(net::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
    const size_t head = out.find("\r\n\r\n");
    if (head == std::string::npos) continue;
    const size_t cl = out.find("Content-Length: ");
    if (cl == std::string::npos || cl > head) break;
    if (out.size() >= head + 4 + std::stoul(out.substr(cl + 16))) break;
  }
  return out;
}

long Gauge(uint16_t admin_port, const std::string& name) {
  const std::string m =
      Exchange(admin_port, "GET /metrics HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
  const std::string key = "\n" + name + " ";
  const size_t at = m.find(key);
  return at == std::string::npos ? -1 : std::stol(m.substr(at + key.size()));
}
long HeldNow(uint16_t admin_port) { return Gauge(admin_port, "liveorigin_held_requests"); }

struct Waiter {
  explicit Waiter(net::io_context& ioc) : socket(ioc) {}
  tcp::socket socket;
  std::string buffer;
  Clock::time_point complete{};
  int status = 0;
  bool ok = false;
};

// Reads one whole response (head, then Content-Length body bytes).
void ReadResponse(Waiter* w, std::atomic<int>* done) {
  net::async_read_until(
      w->socket, net::dynamic_buffer(w->buffer), "\r\n\r\n",
      [w, done](boost::system::error_code ec, size_t head_len) {
        if (ec || w->buffer.size() < 12) {
          ++*done;
          return;
        }
        w->status = std::stoi(w->buffer.substr(9, 3));
        const size_t cl = w->buffer.find("Content-Length: ");
        const size_t length =
            cl == std::string::npos || cl > head_len ? 0 : std::stoul(w->buffer.substr(cl + 16));
        const size_t have = w->buffer.size() - head_len;
        auto finish = [w, done](boost::system::error_code rec, size_t) {
          w->complete = Clock::now();
          w->ok = !rec && w->status == 200;
          ++*done;
        };
        if (have >= length) return finish({}, 0);
        w->buffer.resize(head_len + length);
        net::async_read(w->socket, net::buffer(w->buffer.data() + head_len + have, length - have),
                        finish);
      });
}

struct Figures {
  int ok = 0;
  double p50 = -1, p99 = -1, last = -1;
};

Figures Measure(const std::vector<std::unique_ptr<Waiter>>& waiters, Clock::time_point start) {
  std::vector<double> ms;
  Figures f;
  for (const auto& w : waiters) {
    if (!w->ok) continue;
    ++f.ok;
    ms.push_back(std::chrono::duration<double, std::milli>(w->complete - start).count());
  }
  std::sort(ms.begin(), ms.end());
  if (!ms.empty()) {
    f.p50 = ms[ms.size() / 2];
    f.p99 = ms[std::min(ms.size() - 1, static_cast<size_t>(0.99 * ms.size()))];
    f.last = ms.back();
  }
  return f;
}

bool ConnectAll(net::io_context& ioc, const tcp::endpoint& ep, int count,
                std::vector<std::unique_ptr<Waiter>>* out) {
  for (int i = 0; i < count; ++i) {
    auto w = std::make_unique<Waiter>(ioc);
    boost::system::error_code ec;
    w->socket.connect(ep, ec);
    if (ec) {
      std::fprintf(stderr, "connect %d failed: %s (raise ulimit -n?)\n", i, ec.message().c_str());
      return false;
    }
    out->push_back(std::move(w));
  }
  return true;
}

void WaitFor(const std::atomic<int>& done, int count) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (done.load() < count && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s PORT ADMIN_PORT TARGET COUNT BODY_FILE\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<uint16_t>(std::stoi(argv[1]));
  const auto admin_port = static_cast<uint16_t>(std::stoi(argv[2]));
  const std::string target = argv[3];
  const int count = std::stoi(argv[4]);
  std::ifstream file(argv[5], std::ios::binary);
  const std::string body((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (body.empty()) {
    std::fprintf(stderr, "cannot read %s\n", argv[5]);
    return 2;
  }
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  const std::string get = "GET " + target + " HTTP/1.1\r\nHost: b\r\n\r\n";

  // 1. COUNT GETs held on the missing segment, released by one PUT.
  net::io_context ioc;
  std::vector<std::unique_ptr<Waiter>> held_waiters;
  if (!ConnectAll(ioc, ep, count, &held_waiters)) return 1;
  std::atomic<int> done{0};
  for (auto& w : held_waiters) {
    net::write(w->socket, net::buffer(get));
    ReadResponse(w.get(), &done);
  }
  std::thread reader([&] { ioc.run(); });
  const auto wait_deadline = Clock::now() + std::chrono::seconds(30);
  while (HeldNow(admin_port) < count && Clock::now() < wait_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const long held = HeldNow(admin_port);

  const std::string put = "PUT " + target +
                          " HTTP/1.1\r\nHost: b\r\nX-Live-Pipeline: a\r\nConnection: close\r\n"
                          "Content-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  net::io_context put_ioc;
  tcp::socket put_socket(put_ioc);
  put_socket.connect(ep);
  net::write(put_socket, net::buffer(put));
  const auto put_sent = Clock::now();
  std::string put_reply(64, '\0');
  boost::system::error_code ec;
  put_socket.read_some(net::buffer(put_reply), ec);
  const auto put_acked = Clock::now();
  WaitFor(done, count);
  ioc.stop();
  reader.join();
  const Figures released = Measure(held_waiters, put_sent);
  held_waiters.clear();
  // Let the origin close those connections before opening as many again.
  const auto close_deadline = Clock::now() + std::chrono::seconds(30);
  while (Gauge(admin_port, "liveorigin_open_connections") > 16 && Clock::now() < close_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // 2. The floor: the same COUNT GETs on the published segment.
  net::io_context floor_ioc;
  std::vector<std::unique_ptr<Waiter>> floor_waiters;
  if (!ConnectAll(floor_ioc, ep, count, &floor_waiters)) return 1;
  std::atomic<int> floor_done{0};
  for (auto& w : floor_waiters) ReadResponse(w.get(), &floor_done);
  std::thread floor_reader([&] { floor_ioc.run(); });
  const auto floor_start = Clock::now();
  for (auto& w : floor_waiters) net::write(w->socket, net::buffer(get));
  WaitFor(floor_done, count);
  floor_ioc.stop();
  floor_reader.join();
  const Figures floor = Measure(floor_waiters, floor_start);

  std::printf(
      "held=%ld released_200=%d/%d put_ack_ms=%.2f held_complete_ms p50=%.1f p99=%.1f "
      "last=%.1f floor_complete_ms p50=%.1f p99=%.1f last=%.1f ratio_last=%.2f\n",
      held, released.ok, count,
      std::chrono::duration<double, std::milli>(put_acked - put_sent).count(), released.p50,
      released.p99, released.last, floor.p50, floor.p99, floor.last,
      floor.last > 0 ? released.last / floor.last : -1.0);
  return released.ok == count && floor.ok == count ? 0 : 1;
}
