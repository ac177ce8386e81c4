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

void IntentRoutes::register_routes(Router& router) {
  using schema::UserRole;
  using V = http::verb;
  const Access tech = Access::role(UserRole::Technician);
  const Access admin = Access::role(UserRole::Admin);
  auto bind = [this](Response (IntentRoutes::*fn)(const Request&, const RequestContext&)) {
    return
        [this, fn](const Request& req, const RequestContext& ctx) { return (this->*fn)(req, ctx); };
  };
  auto alert = [this](schema::Payload action) {
    return [this, action](const Request& req, const RequestContext& ctx) {
      return alert_action(req, ctx, action);
    };
  };

  router.add(V::post, "/api/v1/commands", tech, bind(&IntentRoutes::post_commands));
  router.add(V::post, "/api/v1/commands/{id}/cancel", tech, bind(&IntentRoutes::cancel_command));
  router.add(V::post, "/api/v1/alerts/{id}/acknowledge", tech,
             alert(schema::Payload::AlertAcknowledged));
  router.add(V::post, "/api/v1/alerts/{id}/resolve", tech, alert(schema::Payload::AlertResolved));
  router.add(V::post, "/api/v1/alerts/{id}/suppress", tech,
             alert(schema::Payload::AlertSuppressed));
  router.add(V::post, "/api/v1/clients", admin, bind(&IntentRoutes::create_client));
  router.add(V::patch, "/api/v1/clients/{id}", admin, bind(&IntentRoutes::rename_client));
  router.add(V::delete_, "/api/v1/clients/{id}", admin, bind(&IntentRoutes::delete_client));
  router.add(V::post, "/api/v1/sites", admin, bind(&IntentRoutes::create_site));
  router.add(V::patch, "/api/v1/sites/{id}", admin, bind(&IntentRoutes::rename_site));
  router.add(V::delete_, "/api/v1/sites/{id}", admin, bind(&IntentRoutes::delete_site));
  router.add(V::put, "/api/v1/policies", admin, bind(&IntentRoutes::put_policy));
  router.add(V::post, "/api/v1/enrollment-codes", admin, bind(&IntentRoutes::create_code));
  router.add(V::post, "/api/v1/enrollment-codes/{id}/revoke", admin,
             bind(&IntentRoutes::revoke_code));
  router.add(V::post, "/api/v1/agents/{id}/revoke", admin, bind(&IntentRoutes::revoke_agent));
  router.add(V::post, "/api/v1/users", admin, bind(&IntentRoutes::create_user));
  router.add(V::patch, "/api/v1/users/{id}", admin, bind(&IntentRoutes::update_user));
}

}  // namespace rmm::api::intents
