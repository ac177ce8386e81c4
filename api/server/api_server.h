// The HTTP server: an io_context run by `io_threads` threads for sockets, plus a worker pool of
// `worker_threads` for handlers (which block on PostgreSQL), so a slow query never stalls
// accepting or other connections. Plain HTTP, or HTTPS on every connection when options.tls is
// set (api/server/tls_context.h, api/server/session.h).
//
// Shutdown (stop()): close the acceptor, ask every session to close after its in-flight
// response, wait up to `shutdown_grace` for them, then stop the I/O threads and let running
// handlers finish.
//
// Concurrency: start() and stop() from one controlling thread; stop() is idempotent and run by
// the destructor.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/server/connections.h"
#include "api/server/router.h"
#include "api/server/session.h"
#include "api/server/tls_context.h"
#include "common/result.h"

namespace rmm::api {

class Listener;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port, see ApiServer::port()
  int io_threads = 2;
  int worker_threads = 4;
  SessionOptions session;
  std::chrono::milliseconds shutdown_grace{10'000};
  // Set: every connection is HTTPS with this certificate and key (reloaded when they change,
  // api/server/tls_context.h). Unset: plain HTTP.
  std::optional<TlsOptions> tls;
};

class ApiServer {
 public:
  ApiServer(ServerOptions options, const Router& router);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving; fails if the address cannot be bound or the TLS files do not load.
  Status start();
  // The bound port (after start()).
  std::uint16_t port() const { return port_; }
  void stop();

 private:
  ServerOptions options_;
  const Router& router_;
  // Declared before the io_context and pool so it outlives every Session they may still hold.
  ConnectionTracker tracker_;
  std::unique_ptr<TlsContextSource> tls_;
  boost::asio::thread_pool workers_;
  boost::asio::io_context ioc_;
  std::shared_ptr<Listener> listener_;
  std::vector<std::thread> io_threads_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace rmm::api
