// Every intent (write) route of docs/api.md: validate the body, check the target is visible to
// the principal (404 otherwise) and that its role may act (403), publish the control event or
// command with the principal's actor/impersonator, answer 202 {ids, stream_seq, applied}
// (`?wait=<ms>` waits for the projector).
//
// Handlers live in intent_<area>.cc; register() adds them all to a Router with their Access.
//
// Concurrency: handlers are thread-safe and block (PostgreSQL, JetStream acks): worker pool only.
// Limitations: checks read the projection, so they can lag a write of a moment ago; the
// credential of a created user is written before its UserCreated event (a failed publish deletes
// it again).
#pragma once

#include <filesystem>
#include <functional>

#include "api/auth/password_gate.h"
#include "api/db/pg_pool.h"
#include "api/install/windows_installer.h"
#include "api/intents/lookups.h"
#include "api/intents/publisher.h"
#include "api/server/router.h"
#include "common/clock.h"
#include "common/nats_tls.h"

namespace rmm::api::intents {

// Where agent revocation finds the broker side (broker::revoke_user_keys): the installation home
// (keys), the rendered nats-server config and the server's pid file. An empty home disables
// POST /agents/{id}/revoke (503).
struct RevokeOptions {
  std::filesystem::path home;
  std::filesystem::path
      nats_config;  // empty: broker::find_server_config(home) (none when it finds none)
  std::filesystem::path pid_file;  // empty: <home>/run/nats.pid (absent file: no reload)
  // The broker's URLs: the new account JWT is pushed to every server (a cluster's nodes) as the
  // system user; empty: no push (key_revoker.h).
  std::string nats_url;
  nats::TlsClientOptions nats_tls;
};

struct IntentDeps {
  PgPool& read;             // read models (read-only)
  PgPool& credentials;      // auth.* (read-write)
  PasswordGate& passwords;  // bounds Argon2id work (new passwords)
  IntentPublisher& publisher;
  const Clock& clock;
  RevokeOptions revoke;
  // The one-line Linux install for a new code (api/install/install_routes.h); null: none.
  std::function<Result<std::string>(std::string_view code)> install_line;
  // The shared enrollment credential a site's Windows installer carries, as
  // /install/enroll.creds serves it (InstallRoutes::enrollment_credential); null: none (503).
  std::function<Result<std::string>()> enroll_creds;
  // Site copies of the Windows installer (GET /sites/{id}/installer); null: none (503).
  const install::WindowsInstaller* windows_installer = nullptr;
};

class IntentRoutes {
 public:
  explicit IntentRoutes(IntentDeps deps) : d_(std::move(deps)), lookups_(d_.read) {}

  void register_routes(Router& router);

  Response post_commands(const Request& req, const RequestContext& ctx);
  Response cancel_command(const Request& req, const RequestContext& ctx);
  Response alert_action(const Request& req, const RequestContext& ctx, schema::Payload action);
  // POST /api/v1/alerts/acknowledge | resolve: many alerts, one event each (issue 18).
  Response alerts_action(const Request& req, const RequestContext& ctx, schema::Payload action);
  Response create_client(const Request& req, const RequestContext& ctx);
  Response rename_client(const Request& req, const RequestContext& ctx);
  Response delete_client(const Request& req, const RequestContext& ctx);
  Response create_site(const Request& req, const RequestContext& ctx);
  Response rename_site(const Request& req, const RequestContext& ctx);
  Response delete_site(const Request& req, const RequestContext& ctx);
  Response put_policy(const Request& req, const RequestContext& ctx);
  Response create_code(const Request& req, const RequestContext& ctx);
  // intent_installer.cc
  Response site_installer(const Request& req, const RequestContext& ctx);
  Response revoke_code(const Request& req, const RequestContext& ctx);
  Response revoke_agent(const Request& req, const RequestContext& ctx);
  // POST /api/v1/agents/{id}/move (issue 18; intent_agent_move.cc).
  Response move_agent(const Request& req, const RequestContext& ctx);
  Response create_user(const Request& req, const RequestContext& ctx);
  Response update_user(const Request& req, const RequestContext& ctx);
  // intent_rollouts.cc
  Response create_rollout(const Request& req, const RequestContext& ctx);
  Response halt_rollout(const Request& req, const RequestContext& ctx);

 private:
  // Publishes with the publisher; a broker failure becomes kTimeout (503).
  Result<StreamSeq> publish(schema::Payload type, const tenancy::ControlPublisher::Build& build);
  // kConflict (409) when another client is named `name` (Lookups::client_name_taken).
  Status unique_client_name(const std::string& name, const std::optional<ClientId>& except);

  IntentDeps d_;
  Lookups lookups_;
};

// Enrollment codes' lifetimes: POST /enrollment-codes (expires_in_s) and the site installers.
inline constexpr std::int64_t kMinCodeTtlS = 60;
inline constexpr std::int64_t kMaxCodeTtlS = 90LL * 24 * 3600;
inline constexpr std::int64_t kDefaultCodeTtlS = 7LL * 24 * 3600;

// The tenancy library's errors: its own checks are kInvalidInput/kNotFound/kConflict; anything
// else came from the broker (kTimeout, 503).
Error from_tenancy(Error e);

// Role checks run after visibility checks, so anything outside the caller's scopes is 404 whatever
// its role (docs/api.md); kNotSupported (403) when the role is below `min`.
Status need_role(const Principal& p, schema::UserRole min);

// The id in path parameter `name`, parsed; kNotFound when it is not a UUID (a bad id names
// nothing).
template <class IdT>
Result<IdT> path_id(const RequestContext& ctx, std::string_view name) {
  auto id = IdT::parse(ctx.param(name));
  if (!id) return fail(Error::Code::kNotFound, "no such resource");
  return *id;
}

}  // namespace rmm::api::intents
