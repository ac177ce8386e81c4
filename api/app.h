// rmm-api assembled: PostgreSQL pool, NATS link, routes, router and HTTP server, built from an
// ApiConfig. main() and the in-process tests both use it.
//
// Concurrency: start()/stop() from one controlling thread.
#pragma once

#include <memory>

#include "api/auth/auth_routes.h"
#include "api/auth/authenticator.h"
#include "api/auth/oidc/oidc_routes.h"
#include "api/db/pg_pool.h"
#include "api/enroll/enroll_responder.h"
#include "api/install/install_routes.h"
#include "api/install/windows_installer.h"
#include "api/intents/intent_routes.h"
#include "api/live/live_route.h"
#include "api/openapi/openapi_route.h"
#include "api/routes/health.h"
#include "api/routes/metrics_route.h"
#include "api/routes/read_routes.h"
#include "api/routes/static_files.h"
#include "api/server/api_server.h"
#include "api/server/router.h"
#include "api/settings.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/nats_connection.h"
#include "common/result.h"

namespace rmm::api {

class App {
 public:
  // Fails only on configuration that can never work (bad NATS options); unreachable PostgreSQL
  // or NATS are reported by /healthz instead.
  static Result<std::unique_ptr<App>> create(const ApiConfig& config,
                                             const Clock& clock = real_clock());
  ~App();

  Status start();
  std::uint16_t port() const { return server_->port(); }
  const Router& router() const { return router_; }
  oidc::OidcRoutes& oidc() { return *oidc_; }
  // Graceful: stops accepting, finishes in-flight requests (up to shutdown-grace).
  void stop();

 private:
  App() = default;

  metrics::Registry metrics_;  // before router_, which counts into it

  std::unique_ptr<PgPool> pg_;               // read-only: the read models
  std::unique_ptr<PgPool> auth_pg_;          // read-write: auth.* only
  std::unique_ptr<PasswordGate> passwords_;  // bounds Argon2id work (sign-ins, new passwords)
  std::unique_ptr<LiveTickets> live_tickets_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<nats::Connection> nats_;
  std::unique_ptr<HealthRoute> health_;
  std::unique_ptr<MetricsRoute> metrics_route_;
  std::unique_ptr<ReadRoutes> reads_;
  std::unique_ptr<AuthRoutes> auth_;
  std::unique_ptr<oidc::OidcRoutes> oidc_;
  std::unique_ptr<StaticFiles> static_files_;
  Router router_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<enroll::EnrollResponder> enroll_;  // null unless enroll-home is set
  std::unique_ptr<intents::IntentPublisher> intent_publisher_;
  std::unique_ptr<install::InstallRoutes> install_;
  std::unique_ptr<install::WindowsInstaller> windows_installer_;
  std::unique_ptr<intents::IntentRoutes> intents_;
  std::unique_ptr<live::LiveHub> live_hub_;
  std::unique_ptr<live::LiveRoute> live_;
};

}  // namespace rmm::api
