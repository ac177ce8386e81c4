// POST /api/v1/rollouts (RolloutCreated, the event `rmm-release rollout-create` emits, checked by
// the same rollout::check_rollout) and POST /api/v1/rollouts/{id}/halt (RolloutHalted, reason
// "halted by <username>"). Admins and owners only; the rollout controller does the rest.
//
// Scope rules: a global rollout needs a global grant; a client rollout a grant on the client
// itself; a site or agent rollout a visible site or agent. Canary agents must be visible and
// inside the rollout's scope. Halting a rollout the caller sees but does not manage (a global
// rollout seen by a client admin) is 403.
#include <fmt/format.h>

#include "api/db/sql_params.h"
#include "api/intents/intent_routes.h"
#include "api/intents/json_input.h"
#include "api/intents/read_tx.h"
#include "api/intents/reply.h"
#include "tools/release/rollout/rollout_spec.h"

namespace rmm::api::intents {
namespace {

// One ring object: {"name", "agent_ids" | "percent"}; nothing else.
Result<codec::RolloutRingInfo> parse_ring(const boost::json::value& v, std::size_t index) {
  if (!v.is_object()) return invalid(fmt::format("rings[{}] must be an object", index));
  std::string text = boost::json::serialize(v);
  auto ring = Body::parse(text, {"name", "agent_ids", "percent"});
  if (!ring) return std::unexpected(ring.error());
  codec::RolloutRingInfo out;
  auto name = ring->required_text("name", rollout::kMaxRingName);
  if (!name) return std::unexpected(name.error());
  out.name = std::move(*name);
  auto percent = ring->integer("percent", 1, 100);
  if (!percent) return std::unexpected(percent.error());
  out.percent = static_cast<std::uint32_t>(percent->value_or(0));
  if (const auto* ids = ring->raw("agent_ids"); ids != nullptr && !ids->is_null()) {
    if (!ids->is_array() || ids->get_array().size() > rollout::kMaxRingAgents) {
      return invalid(fmt::format("rings[{}].agent_ids must be an array of at most {} agent ids",
                                 index, rollout::kMaxRingAgents));
    }
    for (const auto& id : ids->get_array()) {
      auto bytes = parse_uuid_field("agent_ids", id);
      if (!bytes) return std::unexpected(bytes.error());
      out.agents.emplace_back(*bytes);
    }
  }
  return out;
}

struct RolloutRow {
  std::string scope;
  UuidBytes scope_id{};
  std::string status;
};

}  // namespace

Response IntentRoutes::create_rollout(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto body = Body::parse(req.body(), {"version", "platform", "arch", "scope", "scope_id", "rings",
                                       "advance_healthy_percent", "halt_failed_percent"});
  if (!body) return problem_for(body.error(), req, ctx);
  codec::RolloutCreatedInfo info;
  info.rollout = RolloutId::generate(d_.clock);
  auto version = body->required_text("version", rollout::kMaxVersion);
  if (!version) return problem_for(version.error(), req, ctx);
  info.version = *version;
  auto platform = body->text("platform", 32);
  if (!platform) return problem_for(platform.error(), req, ctx);
  auto arch = body->text("arch", 32);
  if (!arch) return problem_for(arch.error(), req, ctx);
  auto scope_text = body->text("scope", 16);
  if (!scope_text) return problem_for(scope_text.error(), req, ctx);
  auto scope = codec::scope_from_name(scope_text->value_or("global"));
  if (!scope)
    return problem_for(invalid("'scope' must be global, client, site or agent").error(), req, ctx);
  auto scope_id = body->uuid("scope_id");
  if (!scope_id) return problem_for(scope_id.error(), req, ctx);
  const bool global = *scope == schema::PolicyScope::Global;
  if (global && scope_id->has_value()) {
    return problem_for(invalid("a global rollout has no 'scope_id'").error(), req, ctx);
  }
  if (!global && !scope_id->has_value()) {
    return problem_for(invalid("'scope_id' is required").error(), req, ctx);
  }
  info.scope = {*scope, global ? UuidBytes{} : **scope_id};
  const auto* rings = body->raw("rings");
  if (rings == nullptr || !rings->is_array()) {
    return problem_for(invalid("'rings' must be an array of rings").error(), req, ctx);
  }
  if (rings->get_array().size() > rollout::kMaxRings) {
    return problem_for(
        invalid(fmt::format("'rings' holds at most {} rings", rollout::kMaxRings)).error(), req,
        ctx);
  }
  for (std::size_t i = 0; i < rings->get_array().size(); ++i) {
    auto ring = parse_ring(rings->get_array()[i], i);
    if (!ring) return problem_for(ring.error(), req, ctx);
    info.rings.push_back(std::move(*ring));
  }
  auto advance = body->integer("advance_healthy_percent", 1, 100);
  if (!advance) return problem_for(advance.error(), req, ctx);
  auto halt = body->integer("halt_failed_percent", 1, 100);
  if (!halt) return problem_for(halt.error(), req, ctx);
  info.advance_healthy_percent = static_cast<std::uint32_t>(advance->value_or(100));
  info.halt_failed_percent = static_cast<std::uint32_t>(halt->value_or(20));
  info.by = p.actor();
  // The platform and arch only name the build the rollout was created for (every platform with a
  // release of the version is updated): a default from the published builds.
  info.platform = platform->value_or("-");
  info.arch = arch->value_or("-");
  if (auto ok = rollout::check_rollout(info); !ok) return problem_for(ok.error(), req, ctx);

  // The scope must be visible and managed; a global rollout needs a global grant.
  Status visible = lookups_.scope(p, info.scope, "a global rollout needs a global grant");
  if (!visible) return problem_for(visible.error(), req, ctx);
  std::vector<AgentId> named;
  for (const auto& ring : info.rings)
    named.insert(named.end(), ring.agents.begin(), ring.agents.end());
  if (!named.empty()) {
    if (auto found = lookups_.agents(p, named); !found) return problem_for(found.error(), req, ctx);
  }
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);

  // A release of the version must exist; canaries must lie inside the scope.
  auto checked = with_read<std::pair<std::string, std::string>>(
      d_.read, [&](pqxx::read_transaction& tx) -> Result<std::pair<std::string, std::string>> {
        auto rel = tx.exec_params(
            "SELECT platform, arch FROM releases WHERE version = $1 "
            "ORDER BY (platform = $2 AND arch = $3) DESC, platform, arch LIMIT 1",
            info.version, info.platform, info.arch);
        if (rel.empty()) {
          return fail(Error::Code::kConflict, "no release of this version is published");
        }
        if (!named.empty() && !global) {
          std::vector<std::string> ids;
          for (const auto& a : named) ids.push_back(a.str());
          auto outside = tx.exec_params(
              "SELECT count(*) FROM agents a LEFT JOIN sites s ON s.id = a.site_id "
              "WHERE a.id = ANY($1::uuid[]) AND NOT COALESCE(($2 = 'client' AND s.client_id = "
              "$3::uuid) OR ($2 = 'site' AND a.site_id = $3::uuid) OR ($2 = 'agent' AND a.id = "
              "$3::uuid), false)",
              array_literal(ids), std::string(codec::scope_name(info.scope.scope)),
              uuid_to_string(info.scope.id));
          if (outside[0][0].as<std::int64_t>() > 0) {
            return invalid("every canary agent must lie inside the rollout's scope");
          }
        }
        return std::pair{std::string(rel[0][0].c_str()), std::string(rel[0][1].c_str())};
      });
  if (!checked) return problem_for(checked.error(), req, ctx);
  if (!platform->has_value()) info.platform = checked->first;
  if (!arch->has_value()) info.arch = checked->second;

  auto seq = publish(schema::Payload::RolloutCreated,
                     [&](const auto& h) { return codec::build_rollout_created(h, info); });
  if (!seq) return problem_for(seq.error(), req, ctx);
  return accepted(d_.read, req, ctx, boost::json::object{{"id", info.rollout.str()}}, *seq, *wait);
}

Response IntentRoutes::halt_rollout(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto wait = wait_param(req);
  if (!wait) return problem_for(wait.error(), req, ctx);
  auto id = path_id<RolloutId>(ctx, "id");
  if (!id) return problem_for(id.error(), req, ctx);
  auto row = with_read<RolloutRow>(d_.read, [&](pqxx::read_transaction& tx) -> Result<RolloutRow> {
    auto r = tx.exec_params(
        "SELECT scope, scope_id::text, status FROM rollouts WHERE id = $1::uuid", id->str());
    if (r.empty()) return not_found("rollout not found");
    auto scope_id = uuid_from_string(r[0][1].c_str());
    if (!scope_id) return fail("rollout with a malformed scope id");
    return RolloutRow{r[0][0].c_str(), *scope_id, r[0][2].c_str()};
  });
  if (!row) return problem_for(row.error(), req, ctx);
  // Visible like the read (404 otherwise), then managed (403).
  Status managed = {};
  if (row->scope == "global") {
    if (!p.global()) managed = forbidden("halting a global rollout needs a global grant");
  } else if (row->scope == "client") {
    managed = lookups_.client(p, ClientId(row->scope_id), true);
  } else if (row->scope == "site") {
    if (auto s = lookups_.site(p, SiteId(row->scope_id)); !s) managed = std::unexpected(s.error());
  } else if (auto a = lookups_.agent(p, AgentId(row->scope_id)); !a) {
    managed = std::unexpected(a.error());
  }
  if (!managed) {
    if (managed.error().code == Error::Code::kNotFound) {
      return problem_for(Error{Error::Code::kNotFound, "rollout not found"}, req, ctx);
    }
    return problem_for(managed.error(), req, ctx);
  }
  if (auto body = Body::parse(req.body(), {}); !body) return problem_for(body.error(), req, ctx);
  if (auto r = need_role(p, schema::UserRole::Admin); !r) return problem_for(r.error(), req, ctx);
  if (row->status != "created" && row->status != "running") {
    return problem_for(
        Error{Error::Code::kConflict, fmt::format("the rollout is already {}", row->status)}, req,
        ctx);
  }
  const codec::Actor by = p.actor();
  codec::RolloutHaltedInfo info{*id, "halted by " + p.username, by.actor, by.impersonator};
  auto seq = publish(schema::Payload::RolloutHalted,
                     [&](const auto& h) { return codec::build_rollout_halted(h, info); });
  if (!seq) return problem_for(seq.error(), req, ctx);
  return accepted(d_.read, req, ctx, boost::json::object{{"id", id->str()}}, *seq, *wait);
}

}  // namespace rmm::api::intents
