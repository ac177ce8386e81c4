#include "api/app.h"

#include <fmt/format.h>

#include <algorithm>

#include "api/enroll/key_revoker.h"
#include "common/service_inboxes.h"

namespace rmm::api {

Result<std::unique_ptr<App>> App::create(const ApiConfig& config, const Clock& clock) {
  std::unique_ptr<App> app(new App());
  app->pg_ = std::make_unique<PgPool>(PgPool::Options{
      .url = config.pg_url,
      .size = config.pg_pool_size,
      .statement_timeout = config.request_timeout,
      .acquire_timeout = config.request_timeout,
  });
  // Retries forever in the background: the API starts (and /healthz says so) while the broker
  // is down.
  auto nats = nats::Connection::connect({.url = config.nats_url,
                                         .creds_file = config.nats_creds,
                                         .name = "rmm-api",
                                         .inbox_prefix = std::string(nats::kApiInboxPrefix),
                                         .tls_ca_file = config.nats_tls.ca_file,
                                         .tls_server_name = config.nats_tls.server_name,
                                         .reconnect_wait = std::chrono::milliseconds(1000),
                                         .retry_on_failed_connect = true});
  if (!nats) return std::unexpected(nats.error());
  app->nats_ = std::move(*nats);

  // The command key: only rmm-api and the rollout controller hold it (docs/command-signing.md).
  std::optional<broker::CommandSigner> command_signer;
  if (!config.command_keys.empty()) {
    auto loaded = broker::load_command_signer(config.command_keys);
    if (!loaded) return std::unexpected(with_context(loaded.error(), "setting 'command-keys'"));
    command_signer = std::move(*loaded);
  }

  if (!config.enroll_home.empty()) {
    auto signer = broker::load_agent_signer(config.enroll_home);
    if (!signer) return std::unexpected(with_context(signer.error(), "setting 'enroll-home'"));
    enroll::ResponderOptions options{
        .nats_url = config.nats_url,
        .nats_creds = config.nats_creds,
        .nats_tls = config.nats_tls,
        .revoker = enroll::home_key_revoker({.home = config.enroll_home,
                                             .pid_file = config.nats_pid_file,
                                             .nats_url = config.nats_url,
                                             .nats_tls = config.nats_tls},
                                            clock)};
    if (command_signer) {
      for (const auto& k : command_signer->trusted) {
        options.service.command_keys.push_back(signing::public_key_hex(k.public_key));
      }
    }
    app->enroll_ = std::make_unique<enroll::EnrollResponder>(std::move(options), std::move(*signer),
                                                             *app->pg_, clock);
  }

  // The API's own credential store (auth.*) is the one thing it writes in PostgreSQL.
  app->auth_pg_ = std::make_unique<PgPool>(PgPool::Options{
      .url = config.pg_url,
      .size = 2,
      .statement_timeout = config.request_timeout,
      .read_only = false,
      .acquire_timeout = config.request_timeout,
  });
  // Sign-ins may hold at most login-hash-concurrency workers hashing and as many waiting, and
  // always leave one worker free for everything else.
  const int hashing = std::min(config.login_hash_concurrency, config.pg_pool_size - 1);
  app->passwords_ = std::make_unique<PasswordGate>(PasswordGate::Options{
      .concurrent = std::max(1, hashing),
      .waiting = std::max(0, std::min(hashing, config.pg_pool_size - hashing - 1)),
      .max_wait = config.request_timeout});
  auto trusted = parse_trusted_proxies(config.trusted_proxies);
  if (!trusted) return std::unexpected(with_context(trusted.error(), "setting 'trusted-proxies'"));
  app->live_tickets_ = std::make_unique<LiveTickets>(*app->auth_pg_, clock);
  app->authenticator_ = std::make_unique<Authenticator>(*app->pg_, clock, app->live_tickets_.get());
  app->health_ = std::make_unique<HealthRoute>(*app->pg_, *app->nats_);
  app->reads_ = std::make_unique<ReadRoutes>(*app->pg_, clock,
                                             ReadOptions{.offline_after = config.offline_after});
  app->auth_ = std::make_unique<AuthRoutes>(
      *app->auth_pg_, *app->pg_, *app->passwords_, clock,
      AuthOptions{.session_ttl = config.session_ttl,
                  .lockout = {.max_failures = config.login_max_failures,
                              .window = config.login_lockout,
                              .lockout = config.login_lockout},
                  .per_source = {.burst = static_cast<double>(config.login_source_burst),
                                 .per_minute = static_cast<double>(config.login_source_per_minute)},
                  .trusted_proxies = std::move(*trusted),
                  .totp_required = config.totp_required});
  app->oidc_ =
      std::make_unique<oidc::OidcRoutes>(config.oidc, *app->auth_pg_, clock, config.session_ttl);
  app->static_files_ = std::make_unique<StaticFiles>(config.web_dir);

  App* self = app.get();
  // SSO without the provider's mfa asks GuruRMM's second factor like a password sign-in.
  app->oidc_->set_second_factor_gate(
      [self](pqxx::transaction_base& tx, const UserId& user, schema::UserRole role, UnixNanos now) {
        return self->auth_->second_factor_challenge(tx, user, role, "sso", now);
      });
  app->router_.add(http::verb::get, "/healthz",
                   [self](const Request& req, const RequestContext& ctx) {
                     return self->health_->get(req, ctx);
                   });
  app->metrics_route_ = std::make_unique<MetricsRoute>(*app->pg_, clock, config.offline_after,
                                                       app->metrics_, config.metrics_refresh);
  app->router_.set_metrics(&app->metrics_);
  app->router_.add(http::verb::get, "/metrics",
                   [self](const Request& req, const RequestContext& ctx) {
                     return self->metrics_route_->get(req, ctx);
                   });
  app->router_.set_authenticator(
      [self](const Request& req) { return self->authenticator_->authenticate(req); });
  app->reads_->register_routes(app->router_);
  auto publisher = intents::IntentPublisher::create(*app->nats_, clock, std::move(command_signer));
  if (!publisher) return std::unexpected(publisher.error());
  app->intent_publisher_ = std::move(*publisher);
  auto install_proxies = parse_trusted_proxies(config.trusted_proxies);
  if (!install_proxies) return std::unexpected(install_proxies.error());
  install::InstallOptions install_options{
      .public_url = config.public_url,
      // An ApiConfig made in code (tests) may leave it empty; listen's port may be 0 then.
      .public_url_fallback =
          [self, host = config.listen_host, tls = !config.tls_cert.empty()] {
            const bool v6 = host.find(':') != std::string::npos;
            return fmt::format("{}://{}{}{}:{}", tls ? "https" : "http", v6 ? "[" : "", host,
                               v6 ? "]" : "", self->port());
          },
      .public_nats_url = config.public_nats_url.empty()
                             ? config.nats_url.substr(0, config.nats_url.find(','))
                             : config.public_nats_url,
      .ca_file = config.install_ca_file,
      .tls_cert = config.tls_cert,
      .enroll_creds = config.enroll_home.empty()
                          ? std::filesystem::path()
                          : std::filesystem::path(config.enroll_home) / "nats" / "enroll.creds",
      .packages_dir = config.agent_packages_dir,
      .trusted_proxies = std::move(*install_proxies),
      .per_source = {.burst = static_cast<double>(config.login_source_burst),
                     .per_minute = static_cast<double>(config.login_source_per_minute)}};
  app->install_ = std::make_unique<install::InstallRoutes>(std::move(install_options), *app->pg_,
                                                           *app->auth_pg_, clock);
  app->install_->register_routes(app->router_);
  intents::IntentDeps intent_deps{*app->pg_,
                                  *app->auth_pg_,
                                  *app->passwords_,
                                  *app->intent_publisher_,
                                  clock,
                                  {.home = config.enroll_home,
                                   .pid_file = config.nats_pid_file,
                                   .nats_url = config.nats_url,
                                   .nats_tls = config.nats_tls}};
  intent_deps.install_line = [self](std::string_view code) {
    return self->install_->linux_line(code);
  };
  intent_deps.enroll_creds = [self] { return self->install_->enrollment_credential(); };
  app->windows_installer_ =
      std::make_unique<install::WindowsInstaller>(install::WindowsInstallerOptions{
          .dir = config.windows_installer_dir.empty() ? config.agent_packages_dir
                                                      : config.windows_installer_dir,
          .msibuild = config.msibuild,
          .server_url = config.public_nats_url.empty()
                            ? config.nats_url.substr(0, config.nats_url.find(','))
                            : config.public_nats_url,
          .ca_file = config.install_ca_file,
          .timeout = config.request_timeout});
  intent_deps.windows_installer = app->windows_installer_.get();
  app->intents_ = std::make_unique<intents::IntentRoutes>(std::move(intent_deps));
  app->intents_->register_routes(app->router_);
  app->live_hub_ = std::make_unique<live::LiveHub>(
      *app->nats_, *app->pg_, clock,
      live::LiveOptions{.offline_after = config.offline_after,
                        .max_connections = config.live_max_streams,
                        .max_per_user = config.live_max_per_user,
                        .max_per_session = config.live_max_per_session});
  app->live_ = std::make_unique<live::LiveRoute>(*app->live_hub_);
  app->router_.add(http::verb::get, "/api/v1/openapi.json", get_openapi);
  app->router_.add(
      http::verb::get, "/api/v1/live", Access::signed_in(),
      [self](const Request& req, const RequestContext& ctx) { return self->live_->get(req, ctx); });
  app->router_.add(http::verb::post, "/api/v1/live/ticket", Access::signed_in(),
                   [self](const Request& req, const RequestContext& ctx) {
                     return self->live_tickets_->issue(req, ctx);
                   });
  auto auth_route = [self](Response (AuthRoutes::*method)(const Request&, const RequestContext&)) {
    return [self, method](const Request& req, const RequestContext& ctx) {
      return (self->auth_.get()->*method)(req, ctx);
    };
  };
  app->router_.add(http::verb::post, "/api/v1/auth/login", Access::open(),
                   auth_route(&AuthRoutes::login));
  app->router_.add(http::verb::post, "/api/v1/auth/logout", Access::signed_in(),
                   auth_route(&AuthRoutes::logout));
  app->router_.add(http::verb::get, "/api/v1/auth/me", Access::signed_in(),
                   auth_route(&AuthRoutes::me));
  app->router_.add(http::verb::post, "/api/v1/auth/impersonate",
                   Access::role(schema::UserRole::Owner), auth_route(&AuthRoutes::impersonate));
  app->router_.add(http::verb::post, "/api/v1/auth/login/second-factor", Access::open(),
                   auth_route(&AuthRoutes::login_second_factor));
  app->router_.add(http::verb::post, "/api/v1/auth/login/enroll-totp", Access::open(),
                   auth_route(&AuthRoutes::login_enroll_totp));
  app->router_.add(http::verb::get, "/api/v1/auth/totp", Access::signed_in(),
                   auth_route(&AuthRoutes::totp_status));
  app->router_.add(http::verb::post, "/api/v1/auth/totp", Access::signed_in(),
                   auth_route(&AuthRoutes::totp_start));
  app->router_.add(http::verb::post, "/api/v1/auth/totp/confirm", Access::signed_in(),
                   auth_route(&AuthRoutes::totp_confirm));
  app->router_.add(http::verb::delete_, "/api/v1/auth/totp", Access::signed_in(),
                   auth_route(&AuthRoutes::totp_remove));
  app->router_.add(http::verb::delete_, "/api/v1/users/{id}/totp",
                   Access::role(schema::UserRole::Owner), auth_route(&AuthRoutes::totp_reset));
  app->oidc_->register_routes(app->router_);
  app->router_.set_static(
      [self](const Request& req, std::string_view path, const RequestContext& ctx) {
        return self->static_files_->get(req, path, ctx);
      });

  app->server_ = std::make_unique<ApiServer>(
      ServerOptions{
          .host = config.listen_host,
          .port = config.listen_port,
          .io_threads = config.threads,
          .worker_threads = config.pg_pool_size,
          .session = {.request_timeout = config.request_timeout,
                      .max_body = config.max_body,
                      .metrics = &app->metrics_},
          .shutdown_grace = config.shutdown_grace,
          .tls = config.tls_cert.empty()
                     ? std::nullopt
                     : std::optional(TlsOptions{.cert_file = config.tls_cert,
                                                .key_file = config.tls_key,
                                                .check_interval = config.tls_check_interval,
                                                .clock = &clock}),
      },
      app->router_);
  return app;
}

App::~App() {
  stop();
}

Status App::start() {
  if (auto s = live_hub_->start(); !s) return s;
  if (auto s = server_->start(); !s) return s;
  if (enroll_) enroll_->start();
  return {};
}

void App::stop() {
  if (enroll_) enroll_->stop();
  if (server_) server_->stop();
  if (live_hub_) live_hub_->stop();
}

}  // namespace rmm::api
