#include "api/server/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>

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
      tracker_(tracker) {}

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
  // The tracked executor counts as outstanding work, so io_context::run() keeps going until the
  // response has been handed back, even during shutdown.
  auto home = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  net::post(workers_, [self = shared_from_this(), req, home] {
    RequestContext ctx{correlation_id_for(*req)};
    auto res = std::make_shared<Response>(self->router_.handle(*req, ctx));
    net::post(home, [self, res, keep_alive = req->keep_alive()] {
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

void Session::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace rmm::api
