// POST /api/v1/commands and POST /api/v1/commands/{id}/cancel.
#include <fmt/format.h>

#include "api/intents/command_request.h"
#include "api/intents/intent_routes.h"
#include "api/intents/json_input.h"
#include "api/intents/reply.h"
#include "common/log.h"

namespace rmm::api::intents {
namespace {

// Commands may still be cancelled while the agent has not finished them.
bool is_open_status(std::string_view status) {
  return status == "queued" || status == "received" || status == "started" || status == "unknown";
}

}  // namespace

Response IntentRoutes::post_commands(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto request = parse_command_request(req.body());
  if (!request) return problem_for(request.error(), req, ctx);

  Result<std::vector<TargetAgent>> targets = std::vector<TargetAgent>{};
  if (!request->agents.empty()) {
    targets = lookups_.agents(p, request->agents);
    if (targets) {
      for (const auto& t : *targets) {
        if (t.revoked) {
          return problem_for(
              Error{Error::Code::kConflict, fmt::format("agent {} is revoked", t.id.str())}, req,
              ctx);
        }
      }
    }
  } else if (request->site) {
    targets = lookups_.agents_of_site(p, *request->site, kMaxCommandTargets);
  } else {
    targets = lookups_.agents_of_client(p, *request->client, kMaxCommandTargets);
  }
  if (!targets) return problem_for(targets.error(), req, ctx);
  // Replacing the agent binary is an admin's decision, like a rollout; so is changing the keys
  // an agent trusts for its commands.
  const bool admin_only = std::holds_alternative<codec::UpdateAgentSpec>(request->action) ||
                          std::holds_alternative<codec::TrustCommandKeysSpec>(request->action);
  if (auto r = need_role(p, admin_only ? schema::UserRole::Admin : schema::UserRole::Technician);
      !r)
    return problem_for(r.error(), req, ctx);

  const codec::Actor by = p.actor();
  // A bulk request (a site, a client or several agents) is a batch: each of its commands carries
  // the batch id, and GET /api/v1/command-batches/{id} reads them back together.
  const bool bulk = request->agents.size() != 1;
  const UuidBytes batch = bulk ? CommandId::generate(d_.clock).bytes() : UuidBytes{};
  boost::json::array commands;
  StreamSeq last{0};
  for (const auto& target : *targets) {
    auto id = CommandId::generate(d_.clock);
    auto info = command_for(*request, id, target.id, by.actor, d_.clock.now());
    auto seq = d_.publisher.issue_command(info, request->summary, by, batch);
    if (!seq) {
      // Earlier commands of this request are already out: say which, so nothing is lost.
      log::error("intent.command_failed", {{"correlation_id", ctx.correlation_id},
                                           {"issued", commands.size()},
                                           {"error", seq.error().message}});
      if (seq.error().code == Error::Code::kFull) {
        // Its message is meant for the user; a bulk request says how far it got.
        std::string text = seq.error().message;
        if (!commands.empty()) {
          text += fmt::format(" ({} of {} commands were sent before it filled)", commands.size(),
                              targets->size());
        }
        return problem_for(Error{Error::Code::kFull, std::move(text)}, req, ctx);
      }
      return problem_for(Error{Error::Code::kTimeout, seq.error().message}, req, ctx);
    }
    last = *seq;
    commands.push_back(boost::json::object{{"id", id.str()}, {"agent_id", target.id.str()}});
  }
  if (commands.empty()) {
    return problem_for(Error{Error::Code::kConflict, "no agent to run the command on"}, req, ctx);
  }
  boost::json::object body{{"commands", std::move(commands)}};
  if (bulk) body["batch_id"] = uuid_to_string(batch);
  return accepted(d_.read, req, ctx, std::move(body), last, *wait);
}

Response IntentRoutes::cancel_command(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<CommandId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  if (auto body = Body::parse(req.body(), {}); !body) return problem_for(body.error(), req, ctx);
  auto row = lookups_.command(p, *id);
  if (!row) return problem_for(row.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Technician); !r)
    return problem_for(r.error(), req, ctx);
  if (!is_open_status(row->status)) {
    return problem_for(
        Error{Error::Code::kConflict, fmt::format("the command is already {}", row->status)}, req,
        ctx);
  }

  const codec::Actor by = p.actor();
  auto cancel_id = CommandId::generate(d_.clock);
  codec::CommandCancelRequestedInfo requested{*id, row->agent, cancel_id, by};
  auto seq = publish(schema::Payload::CommandCancelRequested, [&](const auto& h) {
    return codec::build_command_cancel_requested(h, requested);
  });
  if (!seq) return problem_for(seq.error(), req, ctx);
  // The cancel itself is a command to the same agent (CancelSpec), tracked like any other.
  codec::CommandInfo cancel;
  cancel.id = cancel_id;
  cancel.agent = row->agent;
  cancel.issued_at = d_.clock.now();
  cancel.expires_at = cancel.issued_at + std::chrono::nanoseconds(std::chrono::hours(1)).count();
  cancel.issuer = by.actor;
  cancel.action = codec::CancelSpec{*id};
  auto issued = d_.publisher.issue_command(cancel, "cancel " + id->str(), by);
  if (!issued) return problem_for(Error{Error::Code::kTimeout, issued.error().message}, req, ctx);
  boost::json::object body{{"cancel_command_id", cancel_id.str()}};
  return accepted(d_.read, req, ctx, std::move(body), *issued, *wait);
}

}  // namespace rmm::api::intents
