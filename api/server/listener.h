// Accepts TCP connections and starts a session for each, every one on its own strand: HTTPS with
// the TLS source's current context when there is one, else plain HTTP.
//
// Concurrency: open() before the I/O threads run; stop() from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <memory>

#include "api/server/connections.h"
#include "api/server/router.h"
#include "api/server/session.h"
#include "api/server/tls_context.h"
#include "common/result.h"

namespace rmm::api {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& ioc, const SessionOptions& options, const Router& router,
           boost::asio::thread_pool& workers, ConnectionTracker& tracker,
           TlsContextSource* tls = nullptr);

  // Binds and listens; the error names the address.
  Status open(const boost::asio::ip::tcp::endpoint& endpoint);
  std::uint16_t port() const { return port_; }
  void start();
  // Closes the acceptor: no new connections; live sessions are untouched.
  void stop();

 private:
  void accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;  // on the acceptor's strand
  const SessionOptions& options_;
  const Router& router_;
  boost::asio::thread_pool& workers_;
  ConnectionTracker& tracker_;
  TlsContextSource* tls_;  // null: plain HTTP
  std::uint16_t port_ = 0;
};

}  // namespace rmm::api
