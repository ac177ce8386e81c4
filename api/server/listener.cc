#include "api/server/listener.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>

#include "common/log.h"

namespace rmm::api {
namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(net::io_context& ioc, const SessionOptions& options, const Router& router,
                   net::thread_pool& workers, ConnectionTracker& tracker, TlsContextSource* tls)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      retry_timer_(acceptor_.get_executor()),
      options_(options),
      router_(router),
      workers_(workers),
      tracker_(tracker),
      tls_(tls) {}

Status Listener::open(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  auto where = [&](std::string_view step) {
    return failf("listen on {}:{}: {}: {}", endpoint.address().to_string(), endpoint.port(), step,
                 ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return where("open");
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return where("set_option");
  acceptor_.bind(endpoint, ec);
  if (ec) return where("bind");
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return where("listen");
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return where("local_endpoint");
  return {};
}

void Listener::start() {
  accept();
}

void Listener::stop() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](auto ec, auto socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Typically EMFILE: keep serving, but pause so a persistent error does not spin the CPU.
    log::warn("http.accept_failed", {{"error", ec.message()}});
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code) {
      if (self->acceptor_.is_open()) self->accept();
    });
    return;
  }
  if (tls_ != nullptr) {
    std::make_shared<TlsSession>(std::move(socket), tls_->current(), options_, router_, workers_,
                                 tracker_)
        ->start();
  } else {
    std::make_shared<PlainSession>(std::move(socket), nullptr, options_, router_, workers_,
                                   tracker_)
        ->start();
  }
  accept();
}

}  // namespace rmm::api
