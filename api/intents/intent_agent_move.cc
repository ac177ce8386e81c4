// POST /api/v1/agents/{id}/move: an agent to another site of its client (issue 18). The event
// (AgentMoved) is the whole intent: the projector moves the agents row, recomputes its effective
// policy and audits it; a move that no longer fits when folded is dead-lettered there.
#include "api/intents/intent_routes.h"
#include "api/intents/json_input.h"
#include "api/intents/reply.h"

namespace rmm::api::intents {

Response IntentRoutes::move_agent(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<AgentId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  auto body = Body::parse(req.body(), {"site_id"});
  if (!body) return problem_for(body.error(), req, ctx);
  auto site_text = body->uuid("site_id");
  if (!site_text) return problem_for(site_text.error(), req, ctx);
  if (!*site_text) {
    return problem_for(Error{Error::Code::kInvalidInput, "'site_id' is required"}, req, ctx);
  }
  // Scope over both sites: the agent is visible only through a grant on its site or client, and
  // the target site must be visible too (404 for either, whatever the role).
  auto agent = lookups_.agent(p, *id);
  if (!agent) return problem_for(agent.error(), req, ctx);
  auto to = lookups_.site(p, SiteId(**site_text));
  if (!to) return problem_for(to.error(), req, ctx);
  // Tenancy, like revoking: admins and owners.
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  if (agent->revoked) {
    return problem_for(Error{Error::Code::kConflict, "the agent is revoked"}, req, ctx);
  }
  if (!agent->site || !agent->client) {
    return problem_for(Error{Error::Code::kConflict, "the agent has no site to move from"}, req,
                       ctx);
  }
  if (*agent->site == to->id) {
    return problem_for(Error{Error::Code::kConflict, "the agent is already in that site"}, req,
                       ctx);
  }
  if (*agent->client != to->client) {
    // Its broker identity and keys belong to its client: another client means enrolling anew.
    return problem_for(Error{Error::Code::kConflict,
                             "an agent moves only between sites of its own client (enroll it "
                             "with the other client's code instead)"},
                       req, ctx);
  }
  codec::AgentMovedInfo info{*id, *agent->site, to->id, p.actor()};
  auto seq = publish(schema::Payload::AgentMoved,
                     [&](const auto& h) { return codec::build_agent_moved(h, info); });
  if (!seq) return problem_for(seq.error(), req, ctx);
  return accepted(d_.read, req, ctx,
                  boost::json::object{{"id", id->str()}, {"site_id", to->id.str()}}, *seq, *wait);
}

}  // namespace rmm::api::intents
