// One HTTP/1.1 connection: reads a request, hands it to the worker pool (handlers block on
// PostgreSQL), writes the response back on the connection's strand, repeats while keep-alive.
//
// Reads and writes are bounded by request-timeout; bodies by max-body (413). A malformed request
// gets a 400 problem and the connection is closed.
//
// A handler may answer with a long-lived body instead (RequestContext::stream,
// api/server/stream.h): the session then writes the response head and the source's bytes as they
// come, with heartbeats when idle, until the source ends, a write fails or shutdown(); then it
// closes the connection.
//
// HTTPS: HttpSession<TlsStream> first runs the TLS handshake (bounded by request-timeout; a failed
// one closes the connection and counts rmm_api_tls_handshake_failures_total), marks every response
// with Strict-Transport-Security, and ends with a TLS close_notify (bounded by kTlsCloseWait)
// when no read or write is in flight. Plain HTTP and HTTPS share every other line.
//
// Concurrency: every member runs on the session's strand, except the handler, which runs on the
// worker pool with the request and a tracked executor (so the I/O threads do not exit under it).
// shutdown() may be called from any thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>

#include "api/server/connections.h"
#include "api/server/http.h"
#include "api/server/router.h"
#include "api/server/stream.h"
#include "common/metrics.h"

namespace rmm::api {

struct SessionOptions {
  std::chrono::milliseconds request_timeout{30'000};
  std::uint64_t max_body = 1 << 20;
  // Counts failed TLS handshakes (family declared by ApiServer); null: not counted.
  metrics::Registry* metrics = nullptr;
};

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// What the ConnectionTracker holds, whatever the transport.
class Session {
 public:
  virtual ~Session() = default;
  // Close now if idle, else right after the in-flight response is written.
  virtual void shutdown() = 0;
};

template <class Stream>
class HttpSession final : public Session, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `tls` is the context to serve with (HttpSession<TlsStream>); ignored for plain HTTP.
  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls,
              const SessionOptions& options, const Router& router,
              boost::asio::thread_pool& workers, ConnectionTracker& tracker);
  ~HttpSession() override;

  void start();
  void shutdown() override;

 private:
  static Stream make_stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls);
  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }
  void on_handshake(boost::beast::error_code ec);
  void read_request();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void write(Response res, bool keep_alive);
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  // Ends the connection: with a TLS close_notify first (HTTPS) when no I/O is in flight.
  void close();
  // Ends the TCP connection at once.
  void close_now();
  // Streaming (see api/server/stream.h).
  void begin_stream(Response head, std::shared_ptr<StreamSource> source);
  void stream_next();
  void on_stream_write(boost::beast::error_code ec, std::size_t bytes);
  void arm_heartbeat();
  void end_stream();

  std::shared_ptr<boost::asio::ssl::context> tls_;  // kept for the life of stream_
  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response res_;
  const SessionOptions& options_;
  const Router& router_;
  boost::asio::thread_pool& workers_;
  ConnectionTracker& tracker_;
  std::uint64_t tracker_id_ = 0;
  bool busy_ = false;      // a request is being handled or its response written
  bool stopping_ = false;  // shutdown() was called
  bool closing_ = false;   // close() began
  std::shared_ptr<StreamSource> stream_source_;
  std::string stream_out_;  // bytes being written
  bool stream_writing_ = false;
  bool stream_ended_ = false;
  boost::asio::steady_timer heartbeat_;
};

using PlainSession = HttpSession<PlainStream>;
using TlsSession = HttpSession<TlsStream>;

// The counter of failed TLS handshakes (declared by ApiServer when it serves HTTPS).
inline constexpr std::string_view kHandshakeFailures = "rmm_api_tls_handshake_failures_total";

// How long a closing HTTPS connection waits for the peer's close_notify.
inline constexpr std::chrono::milliseconds kTlsCloseWait{1000};

}  // namespace rmm::api
