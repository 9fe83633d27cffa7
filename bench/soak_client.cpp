// Soak load for liveorigin (scripts/soak.sh drives it).
//
// Every segment period d, each of P pipelines PUTs every rendition of every
// event, like epoch-locked packagers would: segment n is PUT shortly after its
// availability time AST + (n + 1)·d (AST = epoch), each packager with its own
// steady latency so that the PUTs spread over the first --spread-ms of the
// period, on keep-alive connection pools with Content-Length
// bodies. Meanwhile G GET clients request live-edge segments of random
// events/renditions in a closed loop, as a CDN does on misses: the edge E, or
// E + 1 (held by the origin until its PUT) when E + 1 is due within
// --edge-ahead-ms.
//
// Bodies are valid CMAF media: the fixture tests/fixtures/media/dash_{video,
// audio}_1.m4s with its sample durations stretched to d (so the origin's
// duration check passes), tfdt = n · duration (so the timeline is continuous
// and both pipelines are aligned), followed by a `free` box of random bytes that
// brings it to the rendition's size (ladder ±10 %). The origin therefore
// inspects, selects and serves them as clean segments, the path real traffic
// takes; init segments (init.mp4) are PUT once per rendition and pipeline first.
//
// A PUT is an error unless 201/204, a GET unless 200 with a body starting with
// `styp`; connection failures and 30 s timeouts are errors too, except that a
// request that fails before any answer byte on a reused keep-alive connection
// (the origin closed it for idleness just then) is resent once on a new one and
// counted apart, as HTTP clients do for idempotent requests. Every
// --report-s a line: rates, p50/p99, errors, origin RSS and data-dir size, CPU.
// At the end a summary and the origin's /metrics counters. Exit 1 on errors.
//
//   soak_client --port P --admin-port A --pid PID --data-dir DIR --fixtures DIR [options]
//
// Boost 1.74 asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using SysClock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// ---------------------------------------------------------------- options ---

struct Options {
  uint16_t port = 0;
  uint16_t admin_port = 0;
  int pid = 0;
  std::string data_dir;
  std::string fixtures = "tests/fixtures/media";
  double minutes = 10;
  int events = 100;
  std::string event_prefix = "e";
  std::vector<std::pair<std::string, std::string>> pipelines = {{"a", "token-a"}, {"b", "token-b"}};
  std::vector<double> video_kib = {8, 16, 32, 64, 96};
  std::vector<double> audio_kib = {8};
  double size_jitter = 0.10;
  int connections = 16;  // per pipeline
  int gets = 32;
  double get_rate = 0;  // GET/s over all clients; 0 = closed loop (as fast as answered)
  int segment_ms = 2000;
  int spread_ms = 1500;
  int edge_ahead_ms = 1000;
  int report_s = 30;
  int timeout_s = 30;
  uint64_t seed = 1;
};

[[noreturn]] void Usage(const char* argv0, const std::string& why) {
  std::fprintf(stderr,
               "%s\nusage: %s --port P --admin-port A --pid PID --data-dir DIR [--fixtures DIR]\n"
               "  [--minutes 10] [--events 100] [--event-prefix e] [--pipelines a:tok,b:tok]\n"
               "  [--video-kib 8,16,32,64,96] [--audio-kib 8] [--size-jitter 0.1]\n"
               "  [--connections 16 (per pipeline)] [--gets 32] [--get-rate 0 (closed loop)]\n"
               "  [--segment-ms 2000] [--spread-ms 1500] [--edge-ahead-ms 1000]\n"
               "  [--report-s 30] [--timeout-s 30] [--seed 1]\n",
               why.c_str(), argv0);
  std::exit(2);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

std::vector<double> Doubles(const std::string& s) {
  std::vector<double> out;
  for (const auto& p : Split(s, ',')) out.push_back(std::stod(p));
  return out;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    std::string v;
    if (auto eq = k.find('='); eq != std::string::npos) {
      v = k.substr(eq + 1);
      k = k.substr(0, eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      Usage(argv[0], "missing value for " + k);
    }
    try {
      if (k == "--port")
        o.port = static_cast<uint16_t>(std::stoi(v));
      else if (k == "--admin-port")
        o.admin_port = static_cast<uint16_t>(std::stoi(v));
      else if (k == "--pid")
        o.pid = std::stoi(v);
      else if (k == "--data-dir")
        o.data_dir = v;
      else if (k == "--fixtures")
        o.fixtures = v;
      else if (k == "--minutes")
        o.minutes = std::stod(v);
      else if (k == "--events")
        o.events = std::stoi(v);
      else if (k == "--event-prefix")
        o.event_prefix = v;
      else if (k == "--pipelines") {
        o.pipelines.clear();
        for (const auto& p : Split(v, ',')) {
          const auto c = p.find(':');
          if (c == std::string::npos) Usage(argv[0], "--pipelines wants id:token,...");
          o.pipelines.emplace_back(p.substr(0, c), p.substr(c + 1));
        }
      } else if (k == "--video-kib")
        o.video_kib = Doubles(v);
      else if (k == "--audio-kib")
        o.audio_kib = Doubles(v);
      else if (k == "--size-jitter")
        o.size_jitter = std::stod(v);
      else if (k == "--connections")
        o.connections = std::stoi(v);
      else if (k == "--gets")
        o.gets = std::stoi(v);
      else if (k == "--get-rate")
        o.get_rate = std::stod(v);
      else if (k == "--segment-ms")
        o.segment_ms = std::stoi(v);
      else if (k == "--spread-ms")
        o.spread_ms = std::stoi(v);
      else if (k == "--edge-ahead-ms")
        o.edge_ahead_ms = std::stoi(v);
      else if (k == "--report-s")
        o.report_s = std::stoi(v);
      else if (k == "--timeout-s")
        o.timeout_s = std::stoi(v);
      else if (k == "--seed")
        o.seed = std::stoull(v);
      else
        Usage(argv[0], "unknown option " + k);
    } catch (const std::exception&) {
      Usage(argv[0], "bad value for " + k + ": " + v);
    }
  }
  if (o.port == 0 || o.admin_port == 0 || o.pid == 0 || o.data_dir.empty()) {
    Usage(argv[0], "--port, --admin-port, --pid and --data-dir are required");
  }
  if (o.pipelines.empty() || o.events <= 0 || o.connections <= 0 || o.gets < 0 ||
      o.segment_ms <= 0 || o.spread_ms < 0 || o.spread_ms >= o.segment_ms) {
    Usage(argv[0], "bad combination of options");
  }
  return o;
}

std::string Base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

// -------------------------------------------------------------- histogram ---

// Log-linear histogram of microseconds: 64 sub-buckets per power of two (<1.6 %).
class Histogram {
 public:
  void Add(uint64_t us) {
    ++buckets_[Index(us)];
    ++count_;
    max_ = std::max(max_, us);
  }
  void Merge(const Histogram& o) {
    for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
    count_ += o.count_;
    max_ = std::max(max_, o.max_);
  }
  uint64_t count() const { return count_; }
  double MaxMs() const { return max_ / 1000.0; }
  double PercentileMs(double q) const {
    if (count_ == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= rank) return std::min<double>(Mid(i), max_) / 1000.0;
    }
    return max_ / 1000.0;
  }

 private:
  static constexpr int kSubBits = 6;
  static constexpr int kSub = 1 << kSubBits;
  static size_t Index(uint64_t v) {
    if (v < kSub) return v;
    const int p = 63 - __builtin_clzll(v);
    const int shift = p - kSubBits;
    return kSub + static_cast<size_t>(shift) * kSub + ((v >> shift) - kSub);
  }
  static double Mid(size_t i) {
    if (i < kSub) return static_cast<double>(i);
    const size_t shift = (i - kSub) / kSub;
    const uint64_t lo = (static_cast<uint64_t>(kSub + (i - kSub) % kSub)) << shift;
    return static_cast<double>(lo) + static_cast<double>(1ull << shift) / 2.0;
  }
  std::array<uint64_t, kSub*(64 - kSubBits + 1)> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

struct Stats {
  Histogram put, get, put_lag;
  std::map<int, uint64_t> put_status, get_status;  // status 0 = transport error
  uint64_t put_bytes = 0, get_bytes = 0;
  uint64_t put_errors = 0, get_errors = 0;
  void Merge(const Stats& o) {
    put.Merge(o.put);
    get.Merge(o.get);
    put_lag.Merge(o.put_lag);
    for (auto [k, v] : o.put_status) put_status[k] += v;
    for (auto [k, v] : o.get_status) get_status[k] += v;
    put_bytes += o.put_bytes;
    get_bytes += o.get_bytes;
    put_errors += o.put_errors;
    get_errors += o.get_errors;
  }
};

std::string StatusList(const std::map<int, uint64_t>& m) {
  std::string s;
  for (auto [k, v] : m) {
    if (!s.empty()) s += " ";
    s += (k == 0 ? std::string("conn-error") : std::to_string(k)) + ":" + std::to_string(v);
  }
  return s.empty() ? "-" : s;
}

// ------------------------------------------------------------------ media ---

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(2);
  }
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

uint32_t Get32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
void Put32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}
void Put64(uint8_t* p, uint64_t v) {
  Put32(p, uint32_t(v >> 32));
  Put32(p + 4, uint32_t(v));
}

// Finds the first box of `type` below [begin, end) descending into containers.
std::optional<size_t> FindBox(const std::vector<uint8_t>& b, size_t begin, size_t end,
                              const char* type) {
  static const char* containers[] = {"moov", "trak", "mdia", "minf",
                                     "stbl", "moof", "traf", "mvex"};
  size_t off = begin;
  while (off + 8 <= end) {
    const uint32_t size = Get32(&b[off]);
    if (size < 8 || off + size > end) return std::nullopt;
    if (std::memcmp(&b[off + 4], type, 4) == 0) return off;
    for (const char* c : containers) {
      if (std::memcmp(&b[off + 4], c, 4) == 0) {
        if (auto r = FindBox(b, off + 8, off + size, type)) return r;
      }
    }
    off += size;
  }
  return std::nullopt;
}

// One rendition's media template: the fixture made to last exactly one segment.
struct MediaTemplate {
  std::vector<uint8_t> bytes;
  size_t tfdt_value_at = 0;  // 64-bit tfdt value
  size_t mfhd_seq_at = 0;
  uint64_t ticks_per_segment = 0;
  std::vector<uint8_t> init;
};

MediaTemplate MakeTemplate(const std::string& segment_path, const std::string& init_path,
                           int segment_ms) {
  MediaTemplate t;
  t.bytes = ReadFile(segment_path);
  t.init = ReadFile(init_path);
  const auto& b = t.bytes;
  const auto mdhd = FindBox(t.init, 0, t.init.size(), "mdhd");
  const auto tfhd = FindBox(b, 0, b.size(), "tfhd");
  const auto tfdt = FindBox(b, 0, b.size(), "tfdt");
  const auto trun = FindBox(b, 0, b.size(), "trun");
  const auto mfhd = FindBox(b, 0, b.size(), "mfhd");
  auto fail = [&](const char* why) {
    std::fprintf(stderr, "%s: %s\n", segment_path.c_str(), why);
    std::exit(2);
  };
  if (!mdhd || !tfhd || !tfdt || !trun || !mfhd) fail("missing mdhd/tfhd/tfdt/trun/mfhd");
  if (t.init[*mdhd + 8] != 0) fail("mdhd version 1 not supported");
  const uint32_t timescale = Get32(&t.init[*mdhd + 8 + 12]);
  const uint32_t tfhd_flags = Get32(&b[*tfhd + 8]) & 0xffffff;
  const uint32_t trun_flags = Get32(&b[*trun + 8]) & 0xffffff;
  const uint32_t samples = Get32(&b[*trun + 12]);
  if (!(tfhd_flags & 0x08) || (trun_flags & 0x100) || samples == 0) {
    fail("needs tfhd default-sample-duration and a trun without per-sample durations");
  }
  if (b[*tfdt + 8] != 1) fail("needs tfdt version 1");
  size_t p = *tfhd + 16;  // after version/flags and track_ID
  if (tfhd_flags & 0x01) p += 8;
  if (tfhd_flags & 0x02) p += 4;
  // Stretch the default sample duration so that the samples last at least d.
  const uint64_t want = static_cast<uint64_t>(timescale) * segment_ms / 1000;
  const uint32_t sample_duration = static_cast<uint32_t>((want + samples - 1) / samples);
  Put32(&t.bytes[p], sample_duration);
  t.ticks_per_segment = static_cast<uint64_t>(sample_duration) * samples;
  t.tfdt_value_at = *tfdt + 12;
  t.mfhd_seq_at = *mfhd + 12;
  return t;
}

// ------------------------------------------------------------------- HTTP ---

struct Response {
  int status = 0;
  size_t body_bytes = 0;
  std::string body_prefix;  // first bytes of the body (up to 512)
};

size_t FindHeader(const std::string& head, const char* name) {  // case-insensitive
  const size_t n = std::strlen(name);
  for (size_t i = head.find("\r\n"); i != std::string::npos && i + 2 + n <= head.size();
       i = head.find("\r\n", i + 2)) {
    if (strncasecmp(head.c_str() + i + 2, name, n) == 0 && head[i + 2 + n] == ':') {
      return i + 2 + n + 1;
    }
  }
  return std::string::npos;
}

// One keep-alive HTTP/1.1 connection, one request at a time; (re)connects lazily.
class HttpConn {
 public:
  using Done = std::function<void(const boost::system::error_code&, const Response&)>;
  HttpConn(net::io_context& ioc, tcp::endpoint ep) : socket_(ioc), ep_(ep) {}

  void Send(std::vector<net::const_buffer> buffers, Done done) {
    buffers_ = std::move(buffers);
    done_ = std::move(done);
    busy_ = true;
    started_ = Steady::now();
    resp_ = Response{};
    reused_ = open_;
    if (open_) return Write();
    Connect();
  }
  bool busy() const { return busy_; }
  // Requests resent because the origin had closed an idle keep-alive
  // connection just as they were sent on it.
  uint64_t stale_retries() const { return stale_retries_; }
  // Aborts a request that has taken longer than `limit`.
  void Watchdog(Steady::duration limit) {
    if (busy_ && Steady::now() - started_ > limit) {
      timed_out_ = true;
      boost::system::error_code ignored;
      socket_.close(ignored);
    }
  }

 private:
  void Connect() {
    socket_ = tcp::socket(socket_.get_executor());
    socket_.async_connect(ep_, [this](const boost::system::error_code& ec) {
      if (ec) return Finish(ec);
      open_ = true;
      socket_.set_option(tcp::no_delay(true));
      Write();
    });
  }
  void Write() {
    net::async_write(socket_, buffers_, [this](const boost::system::error_code& ec, size_t) {
      if (ec) return Finish(ec);
      ReadHead();
    });
  }
  void ReadHead() {
    net::async_read_until(
        socket_, net::dynamic_buffer(rbuf_, 64 * 1024), "\r\n\r\n",
        [this](const boost::system::error_code& ec, size_t n) {
          if (ec) return Finish(ec);
          const std::string head = rbuf_.substr(0, n);
          rbuf_.erase(0, n);
          if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) {
            return Finish(net::error::make_error_code(net::error::invalid_argument));
          }
          resp_.status = std::atoi(head.c_str() + 9);
          const size_t cl = FindHeader(head, "Content-Length");
          if (cl == std::string::npos) {  // the origin always sends Content-Length
            return Finish(net::error::make_error_code(net::error::invalid_argument));
          }
          close_after_ = false;
          if (const size_t c = FindHeader(head, "Connection"); c != std::string::npos) {
            const size_t v = head.find_first_not_of(' ', c);
            close_after_ = v != std::string::npos && strncasecmp(head.c_str() + v, "close", 5) == 0;
          }
          remaining_ = std::strtoull(head.c_str() + cl, nullptr, 10);
          resp_.body_bytes = remaining_;
          const size_t have = std::min<size_t>(rbuf_.size(), remaining_);
          Consume(rbuf_.data(), have);
          rbuf_.erase(0, have);
          if (!rbuf_.empty()) {  // bytes beyond the response: framing broken
            return Finish(net::error::make_error_code(net::error::invalid_argument));
          }
          ReadBody();
        });
  }
  void ReadBody() {
    if (remaining_ == 0) return Finish({});
    socket_.async_read_some(net::buffer(scratch_.data(), std::min(remaining_, scratch_.size())),
                            [this](const boost::system::error_code& ec, size_t n) {
                              if (ec) return Finish(ec);
                              Consume(scratch_.data(), n);
                              ReadBody();
                            });
  }
  void Consume(const char* p, size_t n) {
    remaining_ -= n;
    const size_t want = std::min<size_t>(n, 512 - std::min<size_t>(512, resp_.body_prefix.size()));
    resp_.body_prefix.append(p, want);
  }
  void Finish(boost::system::error_code ec) {
    if (timed_out_ && ec) ec = net::error::make_error_code(net::error::timed_out);
    timed_out_ = false;
    // A server may close an idle keep-alive connection at any moment; a request
    // sent on it just then fails before any answer byte. PUT and GET are
    // idempotent, so it is sent again once on a new connection (RFC 9112
    // section 9.3.1), as curl and nginx's upstream module do.
    if (ec && ec != net::error::timed_out && reused_ && resp_.status == 0 && rbuf_.empty()) {
      boost::system::error_code ignored;
      socket_.close(ignored);
      open_ = false;
      reused_ = false;
      ++stale_retries_;
      return Connect();
    }
    if (ec || close_after_) {
      boost::system::error_code ignored;
      socket_.close(ignored);
      open_ = false;
      rbuf_.clear();
      close_after_ = false;
    }
    busy_ = false;
    Done done = std::move(done_);
    done_ = nullptr;
    done(ec, resp_);
  }

  tcp::socket socket_;
  tcp::endpoint ep_;
  bool open_ = false;
  bool busy_ = false;
  bool close_after_ = false;
  bool timed_out_ = false;
  bool reused_ = false;
  uint64_t stale_retries_ = 0;
  std::vector<net::const_buffer> buffers_;
  Done done_;
  Response resp_;
  std::string rbuf_;
  size_t remaining_ = 0;
  std::array<char, 65536> scratch_{};
  Steady::time_point started_{};
};

// Synchronous GET on the admin port (Connection: close, read to EOF).
std::string AdminGet(uint16_t port, const std::string& target) {
  try {
    net::io_context ioc;
    tcp::socket s(ioc);
    s.connect({net::ip::make_address("127.0.0.1"), port});
    const std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n";
    net::write(s, net::buffer(req));
    std::string out;
    boost::system::error_code ec;
    char buf[65536];
    for (;;) {
      const size_t n = s.read_some(net::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
    }
    const size_t head = out.find("\r\n\r\n");
    return head == std::string::npos ? std::string() : out.substr(head + 4);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "admin GET %s failed: %s\n", target.c_str(), e.what());
    return {};
  }
}

// Sums the samples of one Prometheus metric grouped by one label's value.
std::map<std::string, double> SumBy(const std::string& metrics, const std::string& name,
                                    const std::string& label) {
  std::map<std::string, double> out;
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    std::string key = "total";
    const std::string needle = label + "=\"";
    if (const size_t l = line.find(needle); l != std::string::npos && next == '{') {
      const size_t b = l + needle.size();
      key = line.substr(b, line.find('"', b) - b);
    }
    const size_t sp = line.rfind(' ');
    out[key] += std::strtod(line.c_str() + sp + 1, nullptr);
  }
  return out;
}

std::string Format(const std::map<std::string, double>& m) {
  if (m.empty()) return "0 (absent)";
  std::string s;
  for (const auto& [k, v] : m) {
    char b[128];
    std::snprintf(b, sizeof b, "%s%s=%.0f", s.empty() ? "" : " ", k.c_str(), v);
    s += b;
  }
  return s;
}

// ------------------------------------------------------------ /proc, disk ---

double RssMiB(int pid, const char* field = "VmRSS:") {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0)
      return std::strtod(line.c_str() + std::strlen(field), nullptr) / 1024.0;
  }
  return -1;
}

double CpuSeconds(int pid) {  // utime + stime
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double DiskMiB(const std::string& dir) {  // allocated blocks, like du
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t bytes = 0;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  return bytes / (1024.0 * 1024.0);
}

// ------------------------------------------------------------------- soak ---

struct Job {
  SysClock::time_point due;
  int pipeline = 0;
  int event = 0;
  int rendition = 0;
  int64_t number = -1;  // -1: init segment
  bool operator>(const Job& o) const { return due > o.due; }
};

struct Rendition {
  std::string id;
  double kib = 0;
  const MediaTemplate* media = nullptr;
};

class Soak;

struct PutConn {
  PutConn(net::io_context& ioc, tcp::endpoint ep, int p) : http(ioc, ep), pipeline(p) {}
  HttpConn http;
  int pipeline;
  Job job;
  std::string head;
  std::vector<uint8_t> media;
  std::array<uint8_t, 8> free_header{};
  Steady::time_point sent{};
};

struct GetClient {
  GetClient(net::io_context& ioc, tcp::endpoint ep) : http(ioc, ep), pacer(ioc) {}
  HttpConn http;
  net::steady_timer pacer;
  std::string head;
  std::string url;
  Steady::time_point sent{};
};

struct Sample {
  double elapsed_s, rss_mib, disk_mib;
};

class Soak {
 public:
  explicit Soak(Options o)
      : o_(std::move(o)),
        ep_(net::ip::make_address("127.0.0.1"), o_.port),
        rng_(o_.seed),
        put_timer_(ioc_),
        report_timer_(ioc_),
        watchdog_timer_(ioc_) {
    video_ = MakeTemplate(o_.fixtures + "/dash_video_1.m4s", o_.fixtures + "/dash_video_init.mp4",
                          o_.segment_ms);
    audio_ = MakeTemplate(o_.fixtures + "/dash_audio_1.m4s", o_.fixtures + "/dash_audio_init.mp4",
                          o_.segment_ms);
    for (size_t i = 0; i < o_.video_kib.size(); ++i) {
      renditions_.push_back({"v" + std::to_string(i), o_.video_kib[i], &video_});
    }
    for (size_t i = 0; i < o_.audio_kib.size(); ++i) {
      renditions_.push_back({"a" + std::to_string(i), o_.audio_kib[i], &audio_});
    }
    for (int e = 0; e < o_.events; ++e) {
      char b[64];
      std::snprintf(b, sizeof b, "%s%03d", o_.event_prefix.c_str(), e);
      events_.push_back(b);
    }
    for (const auto& [id, token] : o_.pipelines) {
      auth_.push_back(token.empty() ? "X-Live-Pipeline: " + id
                                    : "Authorization: Basic " + Base64(id + ":" + token));
    }
    pad_.resize(1 << 20);
    for (auto& c : pad_) c = static_cast<uint8_t>(rng_());
    ready_.resize(o_.pipelines.size());
    idle_.resize(o_.pipelines.size());
    for (size_t p = 0; p < o_.pipelines.size(); ++p) {
      for (int i = 0; i < o_.connections; ++i) {
        puts_.push_back(std::make_unique<PutConn>(ioc_, ep_, static_cast<int>(p)));
        idle_[p].push_back(puts_.back().get());
      }
    }
    for (int i = 0; i < o_.gets; ++i) gets_.push_back(std::make_unique<GetClient>(ioc_, ep_));
  }

  int Run() {
    const int64_t d = o_.segment_ms;
    const int64_t now_ms = NowMs();
    // The first segment PUT is the next one to become available (E + 1).
    first_number_ = now_ms / d;
    next_number_ = first_number_;
    start_ = SysClock::time_point(milliseconds(Avail(first_number_)));
    end_ = start_ + milliseconds(static_cast<int64_t>(o_.minutes * 60000));
    // PUT one period past the end so every GET issued before it is answered.
    last_number_ = (End() + d) / d - 1;
    std::printf(
        "soak: %d events x %zu pipelines x %zu renditions, d=%" PRId64
        " ms -> %.0f PUT/s; ladder KiB:",
        o_.events, o_.pipelines.size(), renditions_.size(), d,
        static_cast<double>(o_.events * o_.pipelines.size() * renditions_.size()) * 1000.0 / d);
    for (const auto& r : renditions_) std::printf(" %s=%g", r.id.c_str(), r.kib);
    std::printf(
        " (+-%.0f%%); %d PUT conns/pipeline; %d GET clients%s; %.1f min from segment %" PRId64 "\n",
        o_.size_jitter * 100, o_.connections, o_.gets,
        o_.get_rate > 0 ? (" at " + std::to_string(o_.get_rate) + "/s").c_str() : " (closed loop)",
        o_.minutes, first_number_);
    std::fflush(stdout);

    // Init segments first, every rendition of every event from every pipeline.
    for (size_t p = 0; p < o_.pipelines.size(); ++p) {
      for (int e = 0; e < o_.events; ++e) {
        for (size_t r = 0; r < renditions_.size(); ++r) {
          ready_[p].push_back(
              Job{SysClock::now(), static_cast<int>(p), e, static_cast<int>(r), -1});
          ++puts_pending_;
        }
      }
      Dispatch(static_cast<int>(p));
    }
    PumpPuts();
    for (auto& g : gets_) IssueGet(*g);
    last_report_steady_ = Steady::now();
    last_cpu_origin_ = CpuSeconds(o_.pid);
    last_cpu_self_ = CpuSeconds(getpid());
    rss_start_ = RssMiB(o_.pid);
    ScheduleReport();
    Watchdog();
    PrintHeader();
    // /metrics is fetched off the I/O thread so that it never delays requests.
    std::thread sampler([this] {
      while (!sampler_stop_.load()) {
        const auto m = SumBy(AdminGet(o_.admin_port, "/metrics"), "liveorigin_cache_bytes", "x");
        if (auto it = m.find("total"); it != m.end()) cache_mib_.store(it->second / 1048576.0);
        for (int i = 0; i < 50 && !sampler_stop_.load(); ++i) {
          std::this_thread::sleep_for(milliseconds(100));
        }
      }
    });
    ioc_.run();
    sampler_stop_.store(true);
    sampler.join();

    Report(true);
    return Summary();
  }

 private:
  static int64_t NowMs() {
    return std::chrono::duration_cast<milliseconds>(SysClock::now().time_since_epoch()).count();
  }
  int64_t Avail(int64_t n) const { return (n + 1) * o_.segment_ms; }
  int64_t End() const {
    return std::chrono::duration_cast<milliseconds>(end_.time_since_epoch()).count();
  }
  double Elapsed() const { return std::chrono::duration<double>(SysClock::now() - start_).count(); }

  // ---- PUT side
  // Each packager (event, pipeline) has its own steady latency after the
  // availability time, somewhere in [0, spread - jitter]; each of its renditions
  // goes out within a further `jitter`. Over all packagers the PUTs are spread
  // evenly across the first --spread-ms of the period.
  void SchedulePeriod(int64_t n) {
    const int jitter_us = std::min(100, o_.spread_ms) * 1000;
    if (latency_us_.empty()) {
      std::uniform_int_distribution<int> latency(0, o_.spread_ms * 1000 - jitter_us);
      latency_us_.resize(o_.pipelines.size() * o_.events);
      for (auto& l : latency_us_) l = latency(rng_);
    }
    std::uniform_int_distribution<int> jitter(0, jitter_us);
    const SysClock::time_point avail{milliseconds(Avail(n))};
    for (size_t p = 0; p < o_.pipelines.size(); ++p) {
      for (int e = 0; e < o_.events; ++e) {
        const int base = latency_us_[p * o_.events + e];
        for (size_t r = 0; r < renditions_.size(); ++r) {
          pending_.push(Job{avail + std::chrono::microseconds(base + jitter(rng_)),
                            static_cast<int>(p), e, static_cast<int>(r), n});
          ++puts_pending_;
        }
      }
    }
  }

  void PumpPuts() {
    const auto now = SysClock::now();
    // Plan each period half a second before it becomes available.
    while (next_number_ <= last_number_ &&
           now >= SysClock::time_point(milliseconds(Avail(next_number_) - 500))) {
      SchedulePeriod(next_number_++);
    }
    std::vector<bool> touched(o_.pipelines.size());
    while (!pending_.empty() && pending_.top().due <= now) {
      const Job j = pending_.top();
      pending_.pop();
      ready_[j.pipeline].push_back(j);
      touched[j.pipeline] = true;
    }
    for (size_t p = 0; p < touched.size(); ++p) {
      if (touched[p]) Dispatch(static_cast<int>(p));
    }
    std::optional<SysClock::time_point> wake;
    if (!pending_.empty()) wake = pending_.top().due;
    if (next_number_ <= last_number_) {
      const SysClock::time_point plan{milliseconds(Avail(next_number_) - 500)};
      wake = wake ? std::min(*wake, plan) : plan;
    }
    if (!wake) return;  // everything planned has been released
    put_timer_.expires_after(std::max(*wake - SysClock::now(), SysClock::duration::zero()));
    put_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) PumpPuts();
    });
  }

  void Dispatch(int p) {
    while (!ready_[p].empty() && !idle_[p].empty()) {
      PutConn* c = idle_[p].back();
      idle_[p].pop_back();
      const Job j = ready_[p].front();
      ready_[p].pop_front();
      StartPut(*c, j);
    }
  }

  void StartPut(PutConn& c, const Job& j) {
    c.job = j;
    const Rendition& r = renditions_[j.rendition];
    const std::string path =
        "/" + events_[j.event] + "/" + r.id + "/" +
        (j.number < 0 ? std::string("init.mp4") : std::to_string(j.number) + ".m4s");
    std::vector<net::const_buffer> bufs;
    size_t body = 0;
    const char* type = "video/iso.segment";
    if (j.number < 0) {
      body = r.media->init.size();
      type = "video/mp4";
    } else {
      c.media = r.media->bytes;
      Put64(&c.media[r.media->tfdt_value_at],
            static_cast<uint64_t>(j.number) * r.media->ticks_per_segment);
      Put32(&c.media[r.media->mfhd_seq_at], static_cast<uint32_t>(j.number));
      std::uniform_real_distribution<double> jitter(1 - o_.size_jitter, 1 + o_.size_jitter);
      const size_t target = static_cast<size_t>(r.kib * 1024 * jitter(rng_));
      const size_t free_size =
          std::max<size_t>(8, target > c.media.size() ? target - c.media.size() : 8);
      Put32(c.free_header.data(), static_cast<uint32_t>(free_size));
      std::memcpy(c.free_header.data() + 4, "free", 4);
      body = c.media.size() + free_size;
    }
    c.head = "PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth_[j.pipeline] +
             "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body) +
             "\r\n\r\n";
    bufs.push_back(net::buffer(c.head));
    if (j.number < 0) {
      bufs.push_back(net::buffer(r.media->init));
    } else {
      bufs.push_back(net::buffer(c.media));
      bufs.push_back(net::buffer(c.free_header));
      size_t left = body - c.media.size() - 8;
      while (left > 0) {  // random padding, from a random place in the pool
        const size_t n = std::min(left, pad_.size() / 2);
        std::uniform_int_distribution<size_t> at(0, pad_.size() - n);
        bufs.push_back(net::buffer(pad_.data() + at(rng_), n));
        left -= n;
      }
    }
    c.sent = Steady::now();
    if (j.number >= 0) {
      const auto lag = SysClock::now() - j.due;
      interval_.put_lag.Add(static_cast<uint64_t>(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::microseconds>(lag).count())));
    }
    const size_t bytes = body;
    c.http.Send(std::move(bufs), [this, &c, path, bytes](const boost::system::error_code& ec,
                                                         const Response& resp) {
      const auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - c.sent).count();
      const int status = ec ? 0 : resp.status;
      ++interval_.put_status[status];
      if (status == 201 || status == 204) {
        interval_.put.Add(static_cast<uint64_t>(us));
        interval_.put_bytes += bytes;
      } else {
        ++interval_.put_errors;
        NoteError("PUT", path + " (" + o_.pipelines[c.pipeline].first + ")", status, ec, resp, us);
      }
      --puts_pending_;
      idle_[c.pipeline].push_back(&c);
      Dispatch(c.pipeline);
      MaybeStop();
    });
  }

  // ---- GET side
  void IssueGet(GetClient& g) {
    if (SysClock::now() >= end_) {
      MaybeStop();
      return;
    }
    if (o_.get_rate > 0) {  // open-loop pacing over all clients
      const auto now = Steady::now();
      const auto gap = std::chrono::duration_cast<Steady::duration>(
          std::chrono::duration<double>(1.0 / o_.get_rate));
      if (next_get_slot_ < now) next_get_slot_ = now;
      const auto slot = next_get_slot_;
      next_get_slot_ += gap;
      if (slot > now) {
        g.pacer.expires_at(slot);
        g.pacer.async_wait([this, &g](const boost::system::error_code& ec) {
          if (!ec) SendGet(g);
        });
        return;
      }
    }
    SendGet(g);
  }

  void SendGet(GetClient& g) {
    const int64_t now_ms = NowMs();
    const int64_t d = o_.segment_ms;
    const int64_t edge = now_ms / d - 1;
    int64_t n = edge;
    std::uniform_int_distribution<int> coin(0, 1);
    if (Avail(edge + 1) - now_ms <= o_.edge_ahead_ms && coin(rng_) == 1) n = edge + 1;
    if (n < first_number_) {  // nothing PUT that early: wait for the first period
      g.pacer.expires_after(milliseconds(50));
      g.pacer.async_wait([this, &g](const boost::system::error_code& ec) {
        if (!ec) IssueGet(g);
      });
      return;
    }
    std::uniform_int_distribution<int> ev(0, o_.events - 1);
    std::uniform_int_distribution<int> rn(0, static_cast<int>(renditions_.size()) - 1);
    g.url =
        "/" + events_[ev(rng_)] + "/" + renditions_[rn(rng_)].id + "/" + std::to_string(n) + ".m4s";
    g.head = "GET " + g.url + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    g.sent = Steady::now();
    ++gets_in_flight_;
    g.http.Send({net::buffer(g.head)}, [this, &g](const boost::system::error_code& ec,
                                                  const Response& resp) {
      --gets_in_flight_;
      const auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - g.sent).count();
      const int status = ec ? 0 : resp.status;
      ++interval_.get_status[status];
      const bool media =
          resp.body_prefix.size() >= 8 && resp.body_prefix.compare(4, 4, "styp") == 0;
      if (status == 200 && media) {
        interval_.get.Add(static_cast<uint64_t>(us));
        interval_.get_bytes += resp.body_bytes;
      } else {
        ++interval_.get_errors;
        NoteError("GET", g.url + (status == 200 ? " (body is not a media segment)" : ""), status,
                  ec, resp, us);
      }
      net::post(ioc_, [this, &g] { IssueGet(g); });
    });
  }

  void NoteError(const char* method, const std::string& what, int status,
                 const boost::system::error_code& ec, const Response& resp, int64_t us) {
    if (++errors_logged_ > 30) {
      if (errors_logged_ == 31) std::fprintf(stderr, "(further errors are counted, not logged)\n");
      return;
    }
    std::string body = resp.body_prefix.substr(0, 200);
    for (auto& ch : body) {
      if (ch < 32 || ch > 126) ch = '.';
    }
    std::fprintf(stderr, "[%7.1fs] %s %s -> %s after %.1f ms %s\n", Elapsed(), method, what.c_str(),
                 ec ? ec.message().c_str() : std::to_string(status).c_str(), us / 1000.0,
                 ec ? "" : body.c_str());
  }

  void MaybeStop() {
    if (SysClock::now() < end_ || gets_in_flight_ > 0 || next_number_ <= last_number_ ||
        !pending_.empty() || puts_pending_ > 0) {
      return;
    }
    stopped_ = true;
    put_timer_.cancel();
    report_timer_.cancel();
    watchdog_timer_.cancel();
    for (auto& g : gets_) g->pacer.cancel();
  }

  void Watchdog() {
    watchdog_timer_.expires_after(std::chrono::seconds(1));
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped_) return;
      const auto limit = std::chrono::seconds(o_.timeout_s);
      for (auto& c : puts_) c->http.Watchdog(limit);
      for (auto& g : gets_) g->http.Watchdog(limit);
      MaybeStop();
      if (!stopped_) Watchdog();
    });
  }

  // ---- reporting
  void ScheduleReport() {
    report_timer_.expires_after(std::chrono::seconds(o_.report_s));
    report_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped_) return;
      Report(false);
      ScheduleReport();
    });
  }

  void PrintHeader() {
    std::printf("%8s %7s %7s %8s %8s %8s %8s %7s %8s %6s %8s %8s %7s %6s %6s\n", "elapsed", "PUT/s",
                "GET/s", "PUTp50", "PUTp99", "GETp50", "GETp99", "errors", "lag_p99", "backlg",
                "RSS_MiB", "disk_MiB", "cacheMiB", "o_cpu%", "c_cpu%");
    std::fflush(stdout);
  }

  void Report(bool final) {
    const auto now = Steady::now();
    const double secs = std::chrono::duration<double>(now - last_report_steady_).count();
    if (secs < 0.5 && final) {
      total_.Merge(interval_);
      interval_ = Stats{};
      return;
    }
    const double cpu_o = CpuSeconds(o_.pid), cpu_s = CpuSeconds(getpid());
    const double rss = RssMiB(o_.pid);
    const double disk = DiskMiB(o_.data_dir);
    size_t backlog = 0;
    for (const auto& q : ready_) backlog += q.size();
    const Stats& s = interval_;
    std::printf("%7.0fs %7.1f %7.1f %8.2f %8.2f %8.2f %8.2f %7" PRIu64
                " %8.2f %6zu %8.1f %8.1f %7.1f %6.0f %6.0f\n",
                Elapsed(), s.put.count() / secs, s.get.count() / secs, s.put.PercentileMs(0.5),
                s.put.PercentileMs(0.99), s.get.PercentileMs(0.5), s.get.PercentileMs(0.99),
                total_.put_errors + total_.get_errors + s.put_errors + s.get_errors,
                s.put_lag.PercentileMs(0.99), backlog, rss, disk, cache_mib_.load(),
                100.0 * (cpu_o - last_cpu_origin_) / secs, 100.0 * (cpu_s - last_cpu_self_) / secs);
    std::fflush(stdout);
    samples_.push_back({Elapsed(), rss, disk});
    last_cpu_origin_ = cpu_o;
    last_cpu_self_ = cpu_s;
    last_report_steady_ = now;
    total_.Merge(interval_);
    interval_ = Stats{};
  }

  int Summary() {
    const Stats& t = total_;
    const double secs = std::chrono::duration<double>(end_ - start_).count();
    const double rss_end = RssMiB(o_.pid), hwm = RssMiB(o_.pid, "VmHWM:");
    std::printf("\n== summary: %.1f min, %" PRId64 " segments per rendition (%" PRId64 "..%" PRId64
                ")\n",
                secs / 60, last_number_ - first_number_ + 1, first_number_, last_number_);
    std::printf("| %-5s | %9s | %8s | %8s | %8s | %8s | %9s | %8s | %-28s |\n", "", "requests",
                "per s", "p50 ms", "p90 ms", "p99 ms", "max ms", "MiB", "statuses");
    std::printf(
        "|-------|-----------|----------|----------|----------|----------|-----------|----------|--"
        "----------------------------|\n");
    auto row = [&](const char* name, const Histogram& h, const std::map<int, uint64_t>& st,
                   uint64_t bytes) {
      uint64_t n = 0;
      for (auto [k, v] : st) n += v;
      std::printf("| %-5s | %9" PRIu64
                  " | %8.1f | %8.2f | %8.2f | %8.2f | %9.1f | %8.0f | %-28s |\n",
                  name, n, h.count() / secs, h.PercentileMs(0.5), h.PercentileMs(0.9),
                  h.PercentileMs(0.99), h.MaxMs(), bytes / 1048576.0, StatusList(st).c_str());
    };
    row("PUT", t.put, t.put_status, t.put_bytes);
    row("GET", t.get, t.get_status, t.get_bytes);
    std::printf("PUT send lag behind schedule: p50 %.2f ms, p99 %.2f ms, max %.1f ms\n",
                t.put_lag.PercentileMs(0.5), t.put_lag.PercentileMs(0.99), t.put_lag.MaxMs());
    std::printf("errors: PUT %" PRIu64 ", GET %" PRIu64 "\n", t.put_errors, t.get_errors);
    uint64_t put_retries = 0, get_retries = 0;
    for (const auto& c : puts_) put_retries += c->http.stale_retries();
    for (const auto& g : gets_) get_retries += g->http.stale_retries();
    std::printf(
        "resent once on a new connection after the origin closed an idle keep-alive one"
        " (not errors): PUT %" PRIu64 ", GET %" PRIu64 "\n",
        put_retries, get_retries);
    std::printf("origin RSS MiB: start %.1f, end %.1f, peak (VmHWM) %.1f; trend:", rss_start_,
                rss_end, hwm);
    for (const auto& s : samples_) std::printf(" %.0f", s.rss_mib);
    std::printf("\ndata dir MiB trend:");
    for (const auto& s : samples_) std::printf(" %.0f", s.disk_mib);
    std::printf("\n");
    const std::string m = AdminGet(o_.admin_port, "/metrics");
    std::printf("origin /metrics:\n");
    std::printf("  liveorigin_put_refused_total: %s\n",
                Format(SumBy(m, "liveorigin_put_refused_total", "reason")).c_str());
    std::printf("  liveorigin_storage_errors_total: %s\n",
                Format(SumBy(m, "liveorigin_storage_errors_total", "operation")).c_str());
    std::printf("  liveorigin_held_requests_total: %s\n",
                Format(SumBy(m, "liveorigin_held_requests_total", "outcome")).c_str());
    std::printf("  liveorigin_shed_requests_total: %s\n",
                Format(SumBy(m, "liveorigin_shed_requests_total", "reason")).c_str());
    std::printf("  liveorigin_defects_total: %s\n",
                Format(SumBy(m, "liveorigin_defects_total", "type")).c_str());
    std::printf("  liveorigin_selections_total: %s\n",
                Format(SumBy(m, "liveorigin_selections_total", "pipeline")).c_str());
    std::printf("  liveorigin_cache_lookups_total: %s\n",
                Format(SumBy(m, "liveorigin_cache_lookups_total", "result")).c_str());
    std::printf("  liveorigin_responses_total: %s\n",
                Format(SumBy(m, "liveorigin_responses_total", "code")).c_str());
    std::fflush(stdout);
    return t.put_errors + t.get_errors > 0 ? 1 : 0;
  }

  Options o_;
  net::io_context ioc_;
  tcp::endpoint ep_;
  std::mt19937_64 rng_;
  MediaTemplate video_, audio_;
  std::vector<Rendition> renditions_;
  std::vector<std::string> events_;
  std::vector<std::string> auth_;
  std::vector<uint8_t> pad_;

  std::vector<int> latency_us_;  // per (pipeline, event)
  std::vector<std::unique_ptr<PutConn>> puts_;
  std::vector<std::unique_ptr<GetClient>> gets_;
  std::priority_queue<Job, std::vector<Job>, std::greater<Job>> pending_;
  std::vector<std::deque<Job>> ready_;
  std::vector<std::vector<PutConn*>> idle_;
  int64_t puts_pending_ = 0;
  int64_t gets_in_flight_ = 0;
  Steady::time_point next_get_slot_{};

  int64_t first_number_ = 0, next_number_ = 0, last_number_ = 0;
  SysClock::time_point start_, end_;
  net::system_timer put_timer_;
  net::steady_timer report_timer_;
  net::steady_timer watchdog_timer_;

  Stats interval_, total_;
  std::vector<Sample> samples_;
  Steady::time_point last_report_steady_{};
  double last_cpu_origin_ = 0, last_cpu_self_ = 0, rss_start_ = 0;
  int errors_logged_ = 0;
  bool stopped_ = false;
  std::atomic<bool> sampler_stop_{false};
  std::atomic<double> cache_mib_{-1};
};

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  Soak soak(std::move(o));
  return soak.Run();
}
