#include "tools/release/rollout/rollout_controller.h"

#include <fmt/format.h>

#include <pqxx/result>
#include <pqxx/transaction>

#include "common/command_codec.h"
#include "common/control_plane_events.h"
#include "common/event_codec.h"
#include "common/log.h"

namespace rmm::rollout {
namespace {

constexpr std::string_view kActor = "rollout-controller";

std::vector<AgentId> parse_uuid_array(const pqxx::field& f) {
  std::vector<AgentId> out;
  if (f.is_null()) return out;
  auto parser = f.as_array();
  for (auto [kind, text] = parser.get_next(); kind != pqxx::array_parser::juncture::done;
       std::tie(kind, text) = parser.get_next()) {
    if (kind != pqxx::array_parser::juncture::string_value) continue;
    if (auto id = AgentId::parse(text)) out.push_back(*id);
  }
  return out;
}

}  // namespace

Result<int> RolloutController::run_once() {
  std::vector<std::string> ids;
  {
    pqxx::read_transaction tx(db_);
    for (const auto& r : tx.exec("SELECT id FROM rollouts WHERE status IN ('created', 'running') "
                                 "ORDER BY created_at")) {
      ids.push_back(r[0].c_str());
    }
  }
  int actions = 0;
  for (const auto& id_text : ids) {
    auto rollout = RolloutId::parse(id_text);
    if (!rollout) continue;
    std::string version;
    auto state = load(id_text, version);
    if (!state) {
      log::warn("rollout.load_failed", {{"rollout", id_text}, {"error", state.error().message}});
      continue;
    }
    auto d = decide(*state);
    Status done;
    switch (d.kind) {
      case Decision::Kind::kNothing:
        continue;
      case Decision::Kind::kStartRing:
        if (!started_.insert({id_text, d.ring_index}).second) continue;
        done = start_ring(*rollout, version, d);
        break;
      case Decision::Kind::kHalt: {
        log::warn("rollout.halting", {{"rollout", id_text}, {"reason", d.reason}});
        codec::RolloutHaltedInfo info{*rollout, d.reason, std::string(kActor)};
        auto ack = events_.publish(schema::Payload::RolloutHalted, [&](const auto& h) {
          return codec::build_rollout_halted(h, info);
        });
        if (!ack) done = std::unexpected(ack.error());
        break;
      }
      case Decision::Kind::kComplete: {
        log::info("rollout.completed", {{"rollout", id_text}});
        codec::RolloutCompletedInfo info{*rollout};
        auto ack = events_.publish(schema::Payload::RolloutCompleted, [&](const auto& h) {
          return codec::build_rollout_completed(h, info);
        });
        if (!ack) done = std::unexpected(ack.error());
        break;
      }
    }
    if (!done) return std::unexpected(done.error());
    ++actions;
  }
  return actions;
}

Result<RolloutState> RolloutController::load(const std::string& id, std::string& version) {
  pqxx::read_transaction tx(db_);
  auto head = tx.exec_params(
      "SELECT status, version, scope, scope_id, advance_healthy_percent, halt_failed_percent "
      "FROM rollouts WHERE id = $1::uuid",
      id);
  if (head.empty()) return fail(Error::Code::kNotFound, "rollout not found");
  RolloutState s;
  s.status = head[0][0].c_str();
  version = head[0][1].c_str();
  std::string scope = head[0][2].c_str();
  std::string scope_id = head[0][3].c_str();
  s.advance_healthy_percent = head[0][4].as<std::uint32_t>();
  s.halt_failed_percent = head[0][5].as<std::uint32_t>();
  for (const auto& r : tx.exec_params("SELECT name, planned_agents, percent, agents, started_at "
                                      "FROM rollout_rings WHERE rollout_id = $1::uuid "
                                      "ORDER BY ring_index",
                                      id)) {
    RingPlan ring{r[0].c_str(), parse_uuid_array(r[1]), r[2].as<std::uint32_t>(), std::nullopt};
    if (!r[4].is_null()) ring.started = parse_uuid_array(r[3]);
    s.rings.push_back(std::move(ring));
  }
  static const std::string scope_sql =
      "SELECT a.id FROM agents a LEFT JOIN sites s ON s.id = a.site_id "
      "WHERE a.revoked_at IS NULL AND ($1 = 'global' OR ($1 = 'client' AND s.client_id = "
      "$2::uuid) OR ($1 = 'site' AND a.site_id = $2::uuid) OR ($1 = 'agent' AND a.id = "
      "$2::uuid))";
  for (const auto& r : tx.exec_params(scope_sql, scope, scope_id)) {
    if (auto a = AgentId::parse(r[0].c_str())) s.in_scope.push_back(*a);
  }
  // The latest step of each agent's update to this version.
  for (const auto& r : tx.exec_params("SELECT DISTINCT ON (agent_id) agent_id, step, reason "
                                      "FROM agent_updates WHERE to_version = $1 "
                                      "ORDER BY agent_id, updated_at DESC",
                                      version)) {
    if (auto a = AgentId::parse(r[0].c_str()))
      s.updates[*a] = state_of_step(r[1].c_str(), r[2].c_str());
  }
  return s;
}

Status RolloutController::start_ring(const RolloutId& rollout, const std::string& version,
                                     const Decision& d) {
  log::info("rollout.ring_starting",
            {{"rollout", rollout.str()}, {"ring", d.ring_index}, {"agents", d.agents.size()}});
  codec::RolloutRingStartedInfo info{rollout, d.ring_index, d.agents};
  auto ack = events_.publish(schema::Payload::RolloutRingStarted, [&](const auto& h) {
    return codec::build_rollout_ring_started(h, info);
  });
  if (!ack) return std::unexpected(ack.error());
  for (const auto& agent : d.agents) {
    codec::CommandInfo cmd;
    cmd.id = CommandId::generate(clock_);
    cmd.agent = agent;
    cmd.issued_at = clock_.now();
    cmd.issuer = std::string(kActor);
    cmd.action = codec::UpdateAgentSpec{version, "", "", false};
    codec::CommandIssuedInfo issued{
        cmd.id,
        agent,
        "update_agent",
        fmt::format("update to {} (rollout {})", version, rollout.str()),
        0,
        0,
        codec::Actor{std::string(kActor), ""}};
    auto ev = events_.publish(schema::Payload::CommandIssued, [&](const auto& h) {
      return codec::build_command_issued(h, issued);
    });
    if (!ev) return std::unexpected(ev.error());
    auto bytes = codec::build_command(cmd);
    auto sent = js_.publish(codec::agent_command_subject(agent), bytes, "cmd:" + cmd.id.str(),
                            std::chrono::seconds(5));
    if (!sent) return std::unexpected(sent.error());
  }
  return {};
}

}  // namespace rmm::rollout
