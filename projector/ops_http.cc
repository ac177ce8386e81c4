#include "projector/ops_http.h"

namespace rmm::projector {
namespace http = api::http;

namespace {

api::Response text(const api::Request& req, http::status status, std::string body,
                   std::string_view type = "text/plain; charset=utf-8") {
  api::Response res{status, req.version()};
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

OpsHttp::OpsHttp(ProjectorStatus& status, std::chrono::steady_clock::duration stall,
                 const UnitsReport* units)
    : status_(status), stall_(stall) {
  if (units != nullptr) {
    router_.add(http::verb::get, "/units",
                [units](const api::Request& req, const api::RequestContext&) {
                  return text(req, http::status::ok, units->render_json(), "application/json");
                });
  }
  router_.add(http::verb::get, "/metrics",
              [this](const api::Request& req, const api::RequestContext&) {
                return text(req, http::status::ok, status_.render(),
                            "text/plain; version=0.0.4; charset=utf-8");
              });
  router_.add(
      http::verb::get, "/healthz", [this](const api::Request& req, const api::RequestContext&) {
        return status_.live(stall_) ? text(req, http::status::ok, "ok\n")
                                    : text(req, http::status::service_unavailable, "stalled\n");
      });
  router_.add(http::verb::get, "/readyz",
              [this](const api::Request& req, const api::RequestContext&) {
                return status_.ready() ? text(req, http::status::ok, "ready\n")
                                       : text(req, http::status::service_unavailable,
                                              "not ready: standby or PostgreSQL unavailable\n");
              });
}

OpsHttp::~OpsHttp() {
  stop();
}

Status OpsHttp::start(const std::string& host, std::uint16_t port) {
  // Small: a scraper and a probe or two. Handlers never block on the database.
  server_ = std::make_unique<api::ApiServer>(
      api::ServerOptions{.host = host,
                         .port = port,
                         .io_threads = 1,
                         .worker_threads = 1,
                         .session = {},
                         .shutdown_grace = std::chrono::milliseconds(1000)},
      router_);
  if (auto st = server_->start(); !st) {
    server_.reset();
    return std::unexpected(with_context(st.error(), "ops endpoint"));
  }
  return {};
}

std::uint16_t OpsHttp::port() const {
  return server_ != nullptr ? server_->port() : 0;
}

void OpsHttp::stop() {
  if (server_ != nullptr) server_->stop();
  server_.reset();
}

}  // namespace rmm::projector
