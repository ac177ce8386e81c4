#include "api/server/api_server.h"

#include <boost/asio/ip/address.hpp>

#include "api/server/listener.h"
#include "common/log.h"

namespace rmm::api {
namespace net = boost::asio;

ApiServer::ApiServer(ServerOptions options, const Router& router)
    : options_(std::move(options)),
      router_(router),
      workers_(static_cast<std::size_t>(options_.worker_threads)),
      ioc_(options_.io_threads) {}

ApiServer::~ApiServer() {
  stop();
}

Status ApiServer::start() {
  boost::system::error_code ec;
  auto address = net::ip::make_address(options_.host, ec);
  if (ec) return failf("listen address '{}': {}", options_.host, ec.message());
  if (options_.tls) {
    auto tls = TlsContextSource::load(*options_.tls);
    if (!tls) return std::unexpected(tls.error());
    tls_ = std::move(*tls);
    if (options_.session.metrics != nullptr) {
      options_.session.metrics->counter(std::string(kHandshakeFailures),
                                        "TLS handshakes that failed (plain HTTP to the HTTPS port, "
                                        "clients that do not trust the certificate, scanners)");
    }
  }
  listener_ =
      std::make_shared<Listener>(ioc_, options_.session, router_, workers_, tracker_, tls_.get());
  if (auto s = listener_->open({address, options_.port}); !s) return s;
  port_ = listener_->port();
  listener_->start();  // before run(): the pending accept keeps the io_context busy
  for (int i = 0; i < options_.io_threads; ++i) {
    io_threads_.emplace_back([this] { ioc_.run(); });
  }
  log::info("http.listening", {{"host", options_.host}, {"port", port_}, {"tls", tls_ != nullptr}});
  return {};
}

void ApiServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (listener_) listener_->stop();
  tracker_.shutdown_all();
  if (!tracker_.wait_empty(options_.shutdown_grace)) {
    log::warn("http.shutdown_grace_exceeded", {{"open_connections", tracker_.size()}});
    ioc_.stop();
  }
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  workers_.join();  // handlers already running finish; their responses are dropped
  log::info("http.stopped");
}

}  // namespace rmm::api
