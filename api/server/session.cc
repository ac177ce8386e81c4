#include "api/server/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "api/problem.h"
#include "common/log.h"

namespace rmm::api {
namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr std::uint32_t kHeaderLimit = 16 * 1024;

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_target).category();
}

}  // namespace

Session::Session(net::ip::tcp::socket socket, const SessionOptions& options, const Router& router,
                 net::thread_pool& workers, ConnectionTracker& tracker)
    : stream_(std::move(socket)),
      options_(options),
      router_(router),
      workers_(workers),
      tracker_(tracker),
      heartbeat_(stream_.get_executor()) {}

Session::~Session() {
  if (tracker_id_ != 0) tracker_.remove(tracker_id_);
}

void Session::start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->tracker_id_ = self->tracker_.add(self->weak_from_this());
    if (self->tracker_id_ == 0) {
      self->close();  // shutting down: accepted too late
      return;
    }
    self->read_request();
  });
}

void Session::shutdown() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    if (self->stream_source_) return self->end_stream();
    if (!self->busy_) self->close();
  });
}

void Session::read_request() {
  parser_.emplace();
  parser_->body_limit(options_.max_body);
  parser_->header_limit(kHeaderLimit);
  stream_.expires_after(options_.request_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) {
    return close();
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit || is_http_parse_error(ec)) {
    RequestContext ctx{correlation_id_for(parser_->get())};
    auto status = ec == http::error::body_limit     ? http::status::payload_too_large
                  : ec == http::error::header_limit ? http::status::request_header_fields_too_large
                                                    : http::status::bad_request;
    log::info("http.rejected", {{"reason", ec.message()}, {"correlation_id", ctx.correlation_id}});
    auto res = make_problem(status, "the request could not be read: " + ec.message(), ctx);
    res.set("X-Correlation-Id", ctx.correlation_id);
    busy_ = true;
    return write(std::move(res), false);
  }
  if (ec) {
    log::debug("http.read_failed", {{"error", ec.message()}});
    return close();
  }

  busy_ = true;
  auto req = std::make_shared<Request>(parser_->release());
  beast::error_code peer_ec;
  auto peer = stream_.socket().remote_endpoint(peer_ec);
  std::string remote = peer_ec ? std::string() : peer.address().to_string();
  // The tracked executor counts as outstanding work, so io_context::run() keeps going until the
  // response has been handed back, even during shutdown.
  auto home = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  net::post(workers_, [self = shared_from_this(), req, home, remote = std::move(remote)] {
    RequestContext ctx{correlation_id_for(*req)};
    ctx.remote = remote;
    auto source = std::make_shared<std::shared_ptr<StreamSource>>();
    ctx.stream = source.get();
    auto res = std::make_shared<Response>(self->router_.handle(*req, ctx));
    net::post(home, [self, res, source, keep_alive = req->keep_alive()] {
      if (*source && res->result() == http::status::ok) {
        return self->begin_stream(std::move(*res), std::move(*source));
      }
      if (*source) (*source)->stop();
      self->write(std::move(*res), keep_alive);
    });
  });
}

void Session::write(Response res, bool keep_alive) {
  res_ = std::move(res);
  res_.keep_alive(keep_alive && !stopping_);
  stream_.expires_after(options_.request_timeout);
  http::async_write(stream_, res_,
                    beast::bind_front_handler(&Session::on_write, shared_from_this()));
}

void Session::on_write(beast::error_code ec, std::size_t) {
  busy_ = false;
  if (ec) {
    log::debug("http.write_failed", {{"error", ec.message()}});
    return close();
  }
  if (!res_.keep_alive() || stopping_) return close();
  read_request();
}

void Session::begin_stream(Response head, std::shared_ptr<StreamSource> source) {
  if (stopping_) {
    source->stop();
    return close();
  }
  stream_source_ = std::move(source);
  // The body is delimited by the connection's close: no length, no chunking, no keep-alive.
  stream_out_ = "HTTP/1.1 200 OK\r\n";
  for (const auto& field : head) {
    if (field.name() == http::field::content_length || field.name() == http::field::connection) {
      continue;
    }
    stream_out_.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
  }
  stream_out_ += "Connection: close\r\n\r\n";
  std::weak_ptr<Session> weak = weak_from_this();
  auto executor = stream_.get_executor();
  stream_source_->start([weak, executor] {
    net::post(executor, [weak] {
      if (auto self = weak.lock()) self->stream_next();
    });
  });
  stream_writing_ = true;
  stream_.expires_after(options_.request_timeout);
  net::async_write(stream_, net::buffer(stream_out_),
                   beast::bind_front_handler(&Session::on_stream_write, shared_from_this()));
}

void Session::stream_next() {
  if (!stream_source_ || stream_writing_) return;
  stream_out_ = stream_source_->take(stream_ended_);
  if (stream_out_.empty()) {
    if (stream_ended_) return end_stream();
    return arm_heartbeat();
  }
  stream_writing_ = true;
  stream_.expires_after(options_.request_timeout);
  net::async_write(stream_, net::buffer(stream_out_),
                   beast::bind_front_handler(&Session::on_stream_write, shared_from_this()));
}

void Session::on_stream_write(beast::error_code ec, std::size_t) {
  stream_writing_ = false;
  if (ec || !stream_source_) {
    if (ec) log::debug("http.stream_write_failed", {{"error", ec.message()}});
    return end_stream();
  }
  stream_.expires_never();
  stream_next();
}

void Session::arm_heartbeat() {
  heartbeat_.expires_after(stream_source_->heartbeat_interval());
  heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->stream_source_ || self->stream_writing_) return;
    self->stream_out_ = self->stream_source_->heartbeat();
    self->stream_writing_ = true;
    self->stream_.expires_after(self->options_.request_timeout);
    net::async_write(self->stream_, net::buffer(self->stream_out_),
                     beast::bind_front_handler(&Session::on_stream_write, self));
  });
}

void Session::end_stream() {
  heartbeat_.cancel();
  if (stream_source_) {
    stream_source_->stop();
    stream_source_.reset();
  }
  close();
}

void Session::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace rmm::api
