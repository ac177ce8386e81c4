#include "api/server/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "api/problem.h"
#include "common/log.h"

namespace rmm::api {
namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr std::uint32_t kHeaderLimit = 16 * 1024;
// A year; no includeSubDomains: other names under the operator's domain are not ours to decide.
constexpr const char* kHsts = "max-age=31536000";

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_target).category();
}

}  // namespace

template <class Stream>
Stream HttpSession<Stream>::make_stream(net::ip::tcp::socket socket, net::ssl::context* tls) {
  if constexpr (kTls) {
    return Stream(std::move(socket), *tls);
  } else {
    (void)tls;
    return Stream(std::move(socket));
  }
}

template <class Stream>
HttpSession<Stream>::HttpSession(net::ip::tcp::socket socket,
                                 std::shared_ptr<net::ssl::context> tls,
                                 const SessionOptions& options, const Router& router,
                                 net::thread_pool& workers, ConnectionTracker& tracker)
    : tls_(std::move(tls)),
      stream_(make_stream(std::move(socket), tls_.get())),
      options_(options),
      router_(router),
      workers_(workers),
      tracker_(tracker),
      heartbeat_(stream_.get_executor()) {}

template <class Stream>
HttpSession<Stream>::~HttpSession() {
  if (tracker_id_ != 0) tracker_.remove(tracker_id_);
}

template <class Stream>
void HttpSession<Stream>::start() {
  net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
    self->tracker_id_ = self->tracker_.add(self->weak_from_this());
    if (self->tracker_id_ == 0) {
      self->close_now();  // shutting down: accepted too late
      return;
    }
    if constexpr (kTls) {
      self->tcp().expires_after(self->options_.request_timeout);
      self->stream_.async_handshake(
          net::ssl::stream_base::server,
          beast::bind_front_handler(&HttpSession::on_handshake, self->shared_from_this()));
    } else {
      self->read_request();
    }
  });
}

template <class Stream>
void HttpSession<Stream>::on_handshake(beast::error_code ec) {
  if (ec) {
    // Plain HTTP to the HTTPS port, an untrusting client, a scanner: no answer, just a count.
    log::debug("http.tls_handshake_failed", {{"error", ec.message()}});
    if (options_.metrics != nullptr && !stopping_) options_.metrics->add(kHandshakeFailures, 1);
    return close_now();
  }
  if (stopping_) return close();
  read_request();
}

template <class Stream>
void HttpSession<Stream>::shutdown() {
  net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
    self->stopping_ = true;
    if (self->stream_source_) return self->end_stream();
    // Idle: a read (or the handshake) is in flight, so no close_notify can be sent after it.
    if (!self->busy_) self->close_now();
  });
}

template <class Stream>
void HttpSession<Stream>::read_request() {
  parser_.emplace();
  parser_->body_limit(options_.max_body);
  parser_->header_limit(kHeaderLimit);
  tcp().expires_after(options_.request_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_read(beast::error_code ec, std::size_t) {
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
  auto peer = tcp().socket().remote_endpoint(peer_ec);
  std::string remote = peer_ec ? std::string() : peer.address().to_string();
  // The tracked executor counts as outstanding work, so io_context::run() keeps going until the
  // response has been handed back, even during shutdown.
  auto home = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  net::post(workers_, [self = this->shared_from_this(), req, home, remote = std::move(remote)] {
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

template <class Stream>
void HttpSession<Stream>::write(Response res, bool keep_alive) {
  res_ = std::move(res);
  res_.keep_alive(keep_alive && !stopping_);
  if constexpr (kTls) res_.set(http::field::strict_transport_security, kHsts);
  tcp().expires_after(options_.request_timeout);
  http::async_write(stream_, res_,
                    beast::bind_front_handler(&HttpSession::on_write, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_write(beast::error_code ec, std::size_t) {
  busy_ = false;
  if (ec) {
    log::debug("http.write_failed", {{"error", ec.message()}});
    return close();
  }
  if (!res_.keep_alive() || stopping_) return close();
  read_request();
}

template <class Stream>
void HttpSession<Stream>::begin_stream(Response head, std::shared_ptr<StreamSource> source) {
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
  if constexpr (kTls) {
    stream_out_.append("Strict-Transport-Security: ").append(kHsts).append("\r\n");
  }
  stream_out_ += "Connection: close\r\n\r\n";
  std::weak_ptr<HttpSession> weak = this->weak_from_this();
  auto executor = stream_.get_executor();
  stream_source_->start([weak, executor] {
    net::post(executor, [weak] {
      if (auto self = weak.lock()) self->stream_next();
    });
  });
  stream_writing_ = true;
  tcp().expires_after(options_.request_timeout);
  net::async_write(
      stream_, net::buffer(stream_out_),
      beast::bind_front_handler(&HttpSession::on_stream_write, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::stream_next() {
  if (!stream_source_ || stream_writing_) return;
  stream_out_ = stream_source_->take(stream_ended_);
  if (stream_out_.empty()) {
    if (stream_ended_) return end_stream();
    return arm_heartbeat();
  }
  stream_writing_ = true;
  tcp().expires_after(options_.request_timeout);
  net::async_write(
      stream_, net::buffer(stream_out_),
      beast::bind_front_handler(&HttpSession::on_stream_write, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_stream_write(beast::error_code ec, std::size_t) {
  stream_writing_ = false;
  if (ec || !stream_source_) {
    if (ec) log::debug("http.stream_write_failed", {{"error", ec.message()}});
    return end_stream();
  }
  tcp().expires_never();
  stream_next();
}

template <class Stream>
void HttpSession<Stream>::arm_heartbeat() {
  heartbeat_.expires_after(stream_source_->heartbeat_interval());
  heartbeat_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
    if (ec || !self->stream_source_ || self->stream_writing_) return;
    self->stream_out_ = self->stream_source_->heartbeat();
    self->stream_writing_ = true;
    self->tcp().expires_after(self->options_.request_timeout);
    net::async_write(self->stream_, net::buffer(self->stream_out_),
                     beast::bind_front_handler(&HttpSession::on_stream_write, self));
  });
}

template <class Stream>
void HttpSession<Stream>::end_stream() {
  heartbeat_.cancel();
  if (stream_source_) {
    stream_source_->stop();
    stream_source_.reset();
  }
  // Bytes in flight go out first (bounded by request-timeout); on_stream_write then closes.
  if (stream_writing_) return;
  close();
}

template <class Stream>
void HttpSession<Stream>::close() {
  if constexpr (kTls) {
    if (closing_) return;
    closing_ = true;
    tcp().expires_after(std::min(kTlsCloseWait, options_.request_timeout));
    // close_notify tells the client the body really ended (a stream's end is the close).
    return stream_.async_shutdown(
        [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
  }
  close_now();
}

template <class Stream>
void HttpSession<Stream>::close_now() {
  beast::error_code ignored;
  tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  tcp().close();
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace rmm::api
