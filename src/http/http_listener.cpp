#include "liveorigin/http/http_listener.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <csignal>
#include <functional>

#include "http_session.h"

namespace liveorigin::http {
namespace {

// After accept() fails for want of descriptors or kernel memory, wait this
// long before the next one. The connection stays in the kernel's backlog
// meanwhile; retrying at once spins on both cores (1.5 million failures and
// log lines in 4 s) while nothing can change.
constexpr auto kAcceptPauseOnExhaustion = std::chrono::milliseconds(100);
// At most one log line per interval for each kind of trouble (accept failures,
// refused connections); every line counts what happened since the last one.
constexpr auto kTroubleLogInterval = std::chrono::seconds(10);
// A connection refused for max_connections lingers until the client has read
// the 503 (at most kRefusalLinger). At most this many linger at once: beyond,
// refusals close at once, so a flood cannot pile up descriptors in refusals.
constexpr uint64_t kMaxLingeringRefusals = 64;
constexpr auto kRefusalLinger = std::chrono::seconds(2);

std::string ServiceUnavailable(const std::string& message) {
  const std::string body = "{\"error\":\"too_many_connections\",\"message\":\"" + message + "\"}\n";
  return "HTTP/1.1 503 Service Unavailable\r\n"
         "Content-Type: application/json\r\n"
         "Retry-After: 1\r\n"
         "Connection: close\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The answers to refused connections, built once with exact lengths.
const std::string& TooManyConnectionsResponse() {
  static const std::string response = ServiceUnavailable("max_connections reached; retry later");
  return response;
}
const std::string& OutOfDescriptorsResponse() {
  static const std::string response = ServiceUnavailable(
      "the server has no file descriptor to spare for a new connection; retry later");
  return response;
}

uint64_t SoftDescriptorLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return UINT64_MAX;
  return static_cast<uint64_t>(rl.rlim_cur);
}

// Writes at most one line per kTroubleLogInterval: the first occurrence at
// once, later ones counted and reported when the interval ends (a timer makes
// sure a count is never left unreported). Runs on the listener's strand.
class TroubleLog {
 public:
  // `write(count)` logs one line covering `count` occurrences.
  TroubleLog(const net::any_io_executor& executor, std::function<void(uint64_t)> write)
      : timer_(executor), write_(std::move(write)) {}

  // `owner` is kept alive until the interval's timer has fired.
  void Note(std::shared_ptr<void> owner) {
    ++pending_;
    if (!armed_) Flush(std::move(owner));
  }
  // Reports what is pending now and stops the timer.
  void Cancel() {
    if (pending_) write_(pending_);
    pending_ = 0;
    timer_.cancel();
  }

 private:
  void Flush(std::shared_ptr<void> owner) {
    if (pending_ == 0) {
      armed_ = false;
      return;
    }
    write_(pending_);
    pending_ = 0;
    armed_ = true;
    timer_.expires_after(kTroubleLogInterval);
    timer_.async_wait([this, owner = std::move(owner)](beast::error_code ec) mutable {
      if (ec) {
        armed_ = false;
        return;
      }
      Flush(std::move(owner));
    });
  }

  net::steady_timer timer_;
  std::function<void(uint64_t)> write_;
  uint64_t pending_ = 0;
  bool armed_ = false;
};

class ListenerImpl final : public HttpListener, public std::enable_shared_from_this<ListenerImpl> {
 public:
  ListenerImpl(net::io_context& ioc, std::shared_ptr<core::RequestHandler> handler,
               ListenerOptions options)
      : ioc_(ioc),
        acceptor_(net::make_strand(ioc)),
        pause_timer_(acceptor_.get_executor()),
        handler_(std::move(handler)),
        options_(std::make_shared<const ListenerOptions>(std::move(options))),
        state_(std::make_shared<ListenerState>()),
        accept_failures_(acceptor_.get_executor(), [this](uint64_t n) { LogAcceptFailures(n); }),
        reserve_refusals_(acceptor_.get_executor(), [this](uint64_t n) { LogReserveRefusals(n); }),
        limit_refusals_(acceptor_.get_executor(), [this](uint64_t n) { LogLimitRefusals(n); }) {
    if (options_->sendfile_cache > 0) {
      state_->body_files = std::make_shared<BodyFiles>(options_->sendfile_cache);
    }
  }

  Status Bind(const config::Endpoint& endpoint) {
    beast::error_code ec;
    const auto address = net::ip::make_address(endpoint.host, ec);
    if (ec) return Status::InvalidArgument("invalid address '" + endpoint.host + "'");
    const tcp::endpoint ep(address, endpoint.port);
    auto fail = [&](const char* what) {
      return Status::IOError(std::string("cannot ") + what + " " + endpoint.ToString() + " (" +
                             options_->name + " listener): " + ec.message());
    };
    acceptor_.open(ep.protocol(), ec);
    if (ec) return fail("open");
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) return fail("configure");
    acceptor_.bind(ep, ec);
    if (ec) return fail("bind");
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen on");
    const auto local = acceptor_.local_endpoint(ec);
    port_ = local.port();
    const std::string host = local.address().to_string();
    address_ = (local.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port_);
    return Status::Ok();
  }

  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&ListenerImpl::OnAccept, shared_from_this()));
  }

  uint16_t port() const override { return port_; }
  std::string address() const override { return address_; }
  const ListenerState& state() const override { return *state_; }

  void Drain() override {
    state_->draining.store(true);
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->pause_timer_.cancel();
      self->accept_failures_.Cancel();
      self->reserve_refusals_.Cancel();
      self->limit_refusals_.Cancel();
    });
  }

 private:
  // Runs on the acceptor's strand, like everything below that touches members.
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      if (OnAcceptFailed(ec)) {
        pause_timer_.expires_after(kAcceptPauseOnExhaustion);
        pause_timer_.async_wait([self = shared_from_this()](beast::error_code tec) {
          if (!tec && self->acceptor_.is_open()) self->Accept();
        });
        return;
      }
    } else if (InsideDescriptorReserve(socket)) {
      state_->refused_descriptor_reserve.fetch_add(1);
      reserve_refusals_.Note(shared_from_this());
      RefuseAtOnce(std::move(socket), OutOfDescriptorsResponse());
    } else if (state_->open_connections.load() >= options_->max_connections) {
      state_->refused_max_connections.fetch_add(1);
      limit_refusals_.Note(shared_from_this());
      if (lingering_refusals_.load() < kMaxLingeringRefusals) {
        RefuseLingering(std::move(socket));
      } else {
        RefuseAtOnce(std::move(socket), TooManyConnectionsResponse());
      }
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<HttpSession>(std::move(socket), handler_, options_, state_)->Run();
    }
    Accept();
  }

  // Counts and logs a failed accept(); true when accepting must pause: the
  // process or the system is out of descriptors or memory, and the very
  // next accept() would fail the same way.
  bool OnAcceptFailed(const beast::error_code& ec) {
    last_accept_error_ = ec.message();
    accept_failures_.Note(shared_from_this());
    const int err = ec.category() == boost::system::system_category() ? ec.value() : 0;
    switch (err) {
      case EMFILE:
        state_->accept_emfile.fetch_add(1);
        return true;
      case ENFILE:
        state_->accept_enfile.fetch_add(1);
        return true;
      case ENOBUFS:
      case ENOMEM:
        state_->accept_enomem.fetch_add(1);
        return true;
      default:
        state_->accept_other.fetch_add(1);
        return false;
    }
  }

  bool InsideDescriptorReserve(tcp::socket& socket) const {
    if (options_->reserved_descriptors == 0) return false;
    // Descriptors are allocated lowest first, so connections kept only below
    // this number never occupy the reserve, whatever else is open.
    const auto fd = static_cast<uint64_t>(socket.native_handle());
    return fd + options_->reserved_descriptors >= SoftDescriptorLimit();
  }

  void LogAcceptFailures(uint64_t n) {
    const uint64_t limit = SoftDescriptorLimit();
    spdlog::warn(
        "[{}] accept failed {} time(s) in the last {} s (last: {}); accepting pauses {} ms "
        "after each descriptor or memory shortage; open-file soft limit {}",
        options_->name, n, kTroubleLogInterval.count(), last_accept_error_,
        kAcceptPauseOnExhaustion.count(),
        limit == UINT64_MAX ? std::string("unlimited") : std::to_string(limit));
  }
  void LogReserveRefusals(uint64_t n) {
    spdlog::warn(
        "[{}] {} connection(s) refused with 503 in the last {} s: their descriptors would fall "
        "within the {} this listener keeps free under the open-file soft limit ({}) for "
        "storage, reloads and the admin port; raise the limit (--ulimit nofile, LimitNOFILE) or "
        "lower limits.max_connections",
        options_->name, n, kTroubleLogInterval.count(), options_->reserved_descriptors,
        SoftDescriptorLimit());
  }
  void LogLimitRefusals(uint64_t n) {
    spdlog::warn(
        "[{}] {} connection(s) refused with 503 in the last {} s: max_connections ({}) "
        "reached",
        options_->name, n, kTroubleLogInterval.count(), options_->max_connections);
  }

  // Under descriptor pressure: answer without waiting for the client to read,
  // and free the descriptor now. The answer fits a fresh socket's send buffer.
  static void RefuseAtOnce(tcp::socket socket, const std::string& response) {
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(net::buffer(response), ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // Answer, stop sending, then drain what the client already sent before
  // closing: closing with unread data would reset the connection and the
  // client would never see the 503.
  void RefuseLingering(tcp::socket socket) {
    struct Refusal {
      Refusal(tcp::socket s, std::shared_ptr<ListenerImpl> l)
          : socket(std::move(s)), timer(socket.get_executor()), listener(std::move(l)) {
        listener->lingering_refusals_.fetch_add(1);
      }
      ~Refusal() { listener->lingering_refusals_.fetch_sub(1); }
      tcp::socket socket;
      net::steady_timer timer;
      std::shared_ptr<ListenerImpl> listener;
      char drain[4096];
      void Drain(const std::shared_ptr<Refusal>& self) {
        socket.async_read_some(net::buffer(drain), [self](beast::error_code ec, std::size_t) {
          if (ec) return self->Close();
          self->Drain(self);
        });
      }
      void Close() {
        beast::error_code ignored;
        timer.cancel();
        socket.close(ignored);
      }
    };
    auto r = std::make_shared<Refusal>(std::move(socket), shared_from_this());
    net::async_write(r->socket, net::buffer(TooManyConnectionsResponse()),
                     [r](beast::error_code ec, std::size_t) {
                       if (ec) return r->Close();
                       beast::error_code ignored;
                       r->socket.shutdown(tcp::socket::shutdown_send, ignored);
                       r->timer.expires_after(kRefusalLinger);
                       r->timer.async_wait([r](beast::error_code tec) {
                         if (!tec) r->Close();
                       });
                       r->Drain(r);
                     });
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer pause_timer_;
  const std::shared_ptr<core::RequestHandler> handler_;
  const std::shared_ptr<const ListenerOptions> options_;
  std::shared_ptr<ListenerState> state_;
  uint16_t port_ = 0;
  std::string address_;
  std::string last_accept_error_;
  TroubleLog accept_failures_, reserve_refusals_, limit_refusals_;
  std::atomic<uint64_t> lingering_refusals_{0};  // touched by refusals on their own strands
};

}  // namespace

Result<std::shared_ptr<HttpListener>> HttpListener::Start(
    net::io_context& ioc, const config::Endpoint& endpoint,
    std::shared_ptr<core::RequestHandler> handler, ListenerOptions options) {
  // sendfile(2) has no MSG_NOSIGNAL: a peer gone mid-body must fail the call
  // with EPIPE, not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  auto listener = std::make_shared<ListenerImpl>(ioc, std::move(handler), std::move(options));
  Status st = listener->Bind(endpoint);
  if (!st.ok()) return st;
  listener->Accept();
  return std::shared_ptr<HttpListener>(listener);
}

}  // namespace liveorigin::http
