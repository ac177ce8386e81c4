#include "api/intents/intent_routes.h"

namespace rmm::api::intents {

Result<StreamSeq> IntentRoutes::publish(schema::Payload type,
                                        const tenancy::ControlPublisher::Build& build) {
  auto seq = d_.publisher.publish(type, build);
  if (!seq && seq.error().code == Error::Code::kGeneric) {
    return fail(Error::Code::kTimeout, seq.error().message);
  }
  return seq;
}

Status need_role(const Principal& p, schema::UserRole min) {
  if (p.at_least(min)) return {};
  return fail(Error::Code::kNotSupported, "your role may not do this");
}

// Every intent is open to any signed-in user at the router: the handlers check the role after the
// target's visibility (need_role), so a foreign id is 404 for every role.
void IntentRoutes::register_routes(Router& router) {
  using V = http::verb;
  const Access user = Access::signed_in();
  auto bind = [this](Response (IntentRoutes::*fn)(const Request&, const RequestContext&)) {
    return
        [this, fn](const Request& req, const RequestContext& ctx) { return (this->*fn)(req, ctx); };
  };
  auto alert = [this](schema::Payload action) {
    return [this, action](const Request& req, const RequestContext& ctx) {
      return alert_action(req, ctx, action);
    };
  };

  router.add(V::post, "/api/v1/commands", user, bind(&IntentRoutes::post_commands));
  router.add(V::post, "/api/v1/commands/{id}/cancel", user, bind(&IntentRoutes::cancel_command));
  router.add(V::post, "/api/v1/alerts/{id}/acknowledge", user,
             alert(schema::Payload::AlertAcknowledged));
  router.add(V::post, "/api/v1/alerts/{id}/resolve", user, alert(schema::Payload::AlertResolved));
  router.add(V::post, "/api/v1/alerts/{id}/suppress", user,
             alert(schema::Payload::AlertSuppressed));
  auto alerts = [this](schema::Payload action) {
    return [this, action](const Request& req, const RequestContext& ctx) {
      return alerts_action(req, ctx, action);
    };
  };
  router.add(V::post, "/api/v1/alerts/acknowledge", user,
             alerts(schema::Payload::AlertAcknowledged));
  router.add(V::post, "/api/v1/alerts/resolve", user, alerts(schema::Payload::AlertResolved));
  router.add(V::post, "/api/v1/clients", user, bind(&IntentRoutes::create_client));
  router.add(V::patch, "/api/v1/clients/{id}", user, bind(&IntentRoutes::rename_client));
  router.add(V::delete_, "/api/v1/clients/{id}", user, bind(&IntentRoutes::delete_client));
  router.add(V::post, "/api/v1/sites", user, bind(&IntentRoutes::create_site));
  router.add(V::patch, "/api/v1/sites/{id}", user, bind(&IntentRoutes::rename_site));
  router.add(V::delete_, "/api/v1/sites/{id}", user, bind(&IntentRoutes::delete_site));
  router.add(V::put, "/api/v1/policies", user, bind(&IntentRoutes::put_policy));
  router.add(V::post, "/api/v1/enrollment-codes", user, bind(&IntentRoutes::create_code));
  router.add(V::post, "/api/v1/enrollment-codes/{id}/revoke", user,
             bind(&IntentRoutes::revoke_code));
  // A GET that makes a code: it answers the installer that holds it (intent_installer.cc).
  router.add(V::get, "/api/v1/sites/{id}/installer", user, bind(&IntentRoutes::site_installer));
  router.add(V::post, "/api/v1/agents/{id}/revoke", user, bind(&IntentRoutes::revoke_agent));
  router.add(V::post, "/api/v1/agents/{id}/move", user, bind(&IntentRoutes::move_agent));
  router.add(V::post, "/api/v1/users", user, bind(&IntentRoutes::create_user));
  router.add(V::patch, "/api/v1/users/{id}", user, bind(&IntentRoutes::update_user));
  router.add(V::post, "/api/v1/rollouts", user, bind(&IntentRoutes::create_rollout));
  router.add(V::post, "/api/v1/rollouts/{id}/halt", user, bind(&IntentRoutes::halt_rollout));
}

}  // namespace rmm::api::intents
