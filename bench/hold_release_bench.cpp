// Holds N GET requests on a segment that is not there yet, PUTs it once, and
// reports how long after the PUT each held GET received its response head.
//
//   hold_release_bench PORT ADMIN_PORT TARGET COUNT BODY_BYTES
//
// The event must accept PUTs with "X-Live-Pipeline: a" and TARGET must be due
// within one segment duration (so GETs are held). Prints one line of figures.
// Boost 1.74 asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
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

long HeldNow(uint16_t admin_port) {
  const std::string m =
      Exchange(admin_port, "GET /metrics HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
  const std::string key = "\nliveorigin_held_requests ";
  const size_t at = m.find(key);
  return at == std::string::npos ? -1 : std::stol(m.substr(at + key.size()));
}

struct Waiter {
  explicit Waiter(net::io_context& ioc) : socket(ioc) {}
  tcp::socket socket;
  std::string buffer;
  Clock::time_point arrived{};
  int status = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s PORT ADMIN_PORT TARGET COUNT BODY_BYTES\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<uint16_t>(std::stoi(argv[1]));
  const auto admin_port = static_cast<uint16_t>(std::stoi(argv[2]));
  const std::string target = argv[3];
  const int count = std::stoi(argv[4]);
  const size_t body_bytes = std::stoul(argv[5]);

  net::io_context ioc;
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  const std::string get = "GET " + target + " HTTP/1.1\r\nHost: b\r\n\r\n";
  std::vector<std::unique_ptr<Waiter>> waiters;
  std::atomic<int> done{0};
  for (int i = 0; i < count; ++i) {
    auto w = std::make_unique<Waiter>(ioc);
    boost::system::error_code ec;
    w->socket.connect(ep, ec);
    if (ec) {
      std::fprintf(stderr, "connect %d failed: %s (raise ulimit -n?)\n", i, ec.message().c_str());
      return 1;
    }
    net::write(w->socket, net::buffer(get));
    Waiter* raw = w.get();
    net::async_read_until(raw->socket, net::dynamic_buffer(raw->buffer), "\r\n\r\n",
                          [raw, &done](boost::system::error_code rec, size_t) {
                            raw->arrived = Clock::now();
                            if (!rec && raw->buffer.size() > 12) {
                              raw->status = std::stoi(raw->buffer.substr(9, 3));
                            }
                            ++done;
                          });
    waiters.push_back(std::move(w));
  }
  std::thread reader([&] { ioc.run(); });

  const auto wait_deadline = Clock::now() + std::chrono::seconds(30);
  while (HeldNow(admin_port) < count && Clock::now() < wait_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const long held = HeldNow(admin_port);

  const std::string body(body_bytes, 'x');
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

  const auto release_deadline = Clock::now() + std::chrono::seconds(30);
  while (done.load() < count && Clock::now() < release_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ioc.stop();
  reader.join();

  std::vector<double> ms;
  int ok = 0;
  for (const auto& w : waiters) {
    if (w->status == 200) {
      ++ok;
      ms.push_back(std::chrono::duration<double, std::milli>(w->arrived - put_sent).count());
    }
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms.empty() ? -1.0 : ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  };
  std::printf(
      "held=%ld released_200=%d/%d put_ack_ms=%.2f release_after_put_sent_ms p50=%.2f "
      "p99=%.2f max=%.2f\n",
      held, ok, count, std::chrono::duration<double, std::milli>(put_acked - put_sent).count(),
      pct(0.50), pct(0.99), ms.empty() ? -1.0 : ms.back());
  return ok == count ? 0 : 1;
}
