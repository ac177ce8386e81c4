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
// Concurrency: every member runs on the session's strand, except the handler, which runs on the
// worker pool with the request and a tracked executor (so the I/O threads do not exit under it).
// shutdown() may be called from any thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "api/server/connections.h"
#include "api/server/http.h"
#include "api/server/router.h"
#include "api/server/stream.h"

namespace rmm::api {

struct SessionOptions {
  std::chrono::milliseconds request_timeout{30'000};
  std::uint64_t max_body = 1 << 20;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, const SessionOptions& options, const Router& router,
          boost::asio::thread_pool& workers, ConnectionTracker& tracker);
  ~Session();

  void start();
  // Close now if idle, else right after the in-flight response is written.
  void shutdown();

 private:
  void read_request();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void write(Response res, bool keep_alive);
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void close();
  // Streaming (see api/server/stream.h).
  void begin_stream(Response head, std::shared_ptr<StreamSource> source);
  void stream_next();
  void on_stream_write(boost::beast::error_code ec, std::size_t bytes);
  void arm_heartbeat();
  void end_stream();

  boost::beast::tcp_stream stream_;
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
  std::shared_ptr<StreamSource> stream_source_;
  std::string stream_out_;  // bytes being written
  bool stream_writing_ = false;
  bool stream_ended_ = false;
  boost::asio::steady_timer heartbeat_;
};

}  // namespace rmm::api
