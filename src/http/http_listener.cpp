#include "liveorigin/http/http_listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "http_session.h"

namespace liveorigin::http {
namespace {

// The answer to a connection over max_connections, built once with an exact length.
const std::string& TooManyConnectionsResponse() {
  static const std::string response = [] {
    const std::string body =
        "{\"error\":\"too_many_connections\",\"message\":\"max_connections reached; retry "
        "later\"}\n";
    return "HTTP/1.1 503 Service Unavailable\r\n"
           "Content-Type: application/json\r\n"
           "Retry-After: 1\r\n"
           "Connection: close\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return response;
}

class ListenerImpl final : public HttpListener, public std::enable_shared_from_this<ListenerImpl> {
 public:
  ListenerImpl(net::io_context& ioc, std::shared_ptr<core::RequestHandler> handler,
               ListenerOptions options)
      : ioc_(ioc),
        acceptor_(net::make_strand(ioc)),
        handler_(std::move(handler)),
        options_(std::make_shared<const ListenerOptions>(std::move(options))),
        state_(std::make_shared<ListenerState>()) {}

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
    });
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      spdlog::warn("[{}] accept failed: {}", options_->name, ec.message());
    } else if (state_->open_connections.load() >= options_->max_connections) {
      RefuseConnection(std::move(socket));
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<HttpSession>(std::move(socket), handler_, options_, state_)->Run();
    }
    Accept();
  }

  void RefuseConnection(tcp::socket socket) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log_ > std::chrono::seconds(10)) {
      last_refusal_log_ = now;
      spdlog::warn("[{}] max_connections ({}) reached: refusing new connections", options_->name,
                   options_->max_connections);
    }
    // Answer, stop sending, then drain what the client already sent before
    // closing: closing with unread data would reset the connection and the
    // client would never see the 503.
    struct Refusal {
      explicit Refusal(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
      tcp::socket socket;
      net::steady_timer timer;
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
    auto r = std::make_shared<Refusal>(std::move(socket));
    net::async_write(r->socket, net::buffer(TooManyConnectionsResponse()),
                     [r](beast::error_code ec, std::size_t) {
                       if (ec) return r->Close();
                       beast::error_code ignored;
                       r->socket.shutdown(tcp::socket::shutdown_send, ignored);
                       r->timer.expires_after(std::chrono::seconds(2));
                       r->timer.async_wait([r](beast::error_code tec) {
                         if (!tec) r->Close();
                       });
                       r->Drain(r);
                     });
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  const std::shared_ptr<core::RequestHandler> handler_;
  const std::shared_ptr<const ListenerOptions> options_;
  std::shared_ptr<ListenerState> state_;
  uint16_t port_ = 0;
  std::string address_;
  std::chrono::steady_clock::time_point last_refusal_log_{};
};

}  // namespace

Result<std::shared_ptr<HttpListener>> HttpListener::Start(
    net::io_context& ioc, const config::Endpoint& endpoint,
    std::shared_ptr<core::RequestHandler> handler, ListenerOptions options) {
  auto listener = std::make_shared<ListenerImpl>(ioc, std::move(handler), std::move(options));
  Status st = listener->Bind(endpoint);
  if (!st.ok()) return st;
  listener->Accept();
  return std::shared_ptr<HttpListener>(listener);
}

}  // namespace liveorigin::http
