#include "tools/release/rollout/rollout_controller.h"

#include <fmt/format.h>
#include <nats/nats.h>
#include <sodium.h>

#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

#include "common/command_codec.h"
#include "common/command_signing.h"
#include "common/control_plane_events.h"
#include "common/event_codec.h"
#include "common/log.h"
#include "common/projection_position.h"

namespace rmm::rollout {
namespace {

constexpr std::string_view kActor = "rollout-controller";
constexpr std::chrono::hours kCommandLifetime{24 * 30};

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

std::string uuid_array_literal(const std::vector<AgentId>& ids) {
  std::string out = "{";
  for (const auto& id : ids) {
    if (out.size() > 1) out += ',';
    out += id.str();
  }
  return out + "}";
}

// The last sequence of RMM_EVENTS (0 when the stream cannot be asked).
Result<std::uint64_t> events_last_seq(nats::JetStream& js) {
  jsStreamInfo* si = nullptr;
  jsErrCode code{};
  if (js_GetStreamInfo(&si, js.raw(), "RMM_EVENTS", nullptr, &code) != NATS_OK) {
    return failf("stream info of RMM_EVENTS failed ({})", static_cast<int>(code));
  }
  const std::uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  return last;
}

}  // namespace

CommandId rollout_command_id(const RolloutId& rollout, std::uint32_t ring, const AgentId& agent) {
  std::string input = "rmm.rollout.command:";
  input.append(reinterpret_cast<const char*>(rollout.bytes().data()), rollout.bytes().size());
  input += fmt::format(":{}:", ring);
  input.append(reinterpret_cast<const char*>(agent.bytes().data()), agent.bytes().size());
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(input.data()),
                     input.size());
  UuidBytes bytes{};
  std::copy_n(digest.begin(), bytes.size(), bytes.begin());
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x80);  // version 8 (custom)
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return CommandId(bytes);
}

std::string agent_platform_sql() {
  return "(CASE WHEN inv.agent_id IS NULL THEN NULL"
         " WHEN inv.os_name ILIKE '%windows%' THEN 'windows'"
         " WHEN inv.os_name ILIKE '%mac%' OR inv.kernel ILIKE 'darwin%' THEN 'macos'"
         " ELSE 'linux' END)";
}

std::uint64_t RolloutController::projected_seq() {
  try {
    pqxx::read_transaction tx(db_);
    auto r = tx.exec(std::string(kFoldedThroughSql));
    return r.empty() ? 0 : r[0][0].as<std::uint64_t>();
  } catch (const pqxx::undefined_table&) {
    return 0;  // the projector, started beside this controller, has not migrated yet
  } catch (const pqxx::undefined_column&) {
    return 0;  // ... or not yet its latest migration
  }
}

void RolloutController::published(const nats::PubAck& ack) {
  wait_for_seq_ = std::max(wait_for_seq_, ack.seq.value);
}

Result<int> RolloutController::run_once() {
  if (!started_) {
    // Whatever this controller did before a restart is in the stream by now: decide only once the
    // projection has folded it.
    auto last = events_last_seq(js_);
    if (!last) return std::unexpected(last.error());
    wait_for_seq_ = *last;
    started_ = true;
  }
  if (const auto projected = projected_seq(); projected < wait_for_seq_) {
    log::debug("rollout.waiting_for_projection",
               {{"projected", projected}, {"needed", wait_for_seq_}});
    return 0;
  }
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
        done = start_ring(*rollout, version, d);
        break;
      case Decision::Kind::kHalt: {
        log::warn("rollout.halting", {{"rollout", id_text}, {"reason", d.reason}});
        codec::RolloutHaltedInfo info{*rollout, d.reason, std::string(kActor), ""};
        auto ack = events_.publish(schema::Payload::RolloutHalted, [&](const auto& h) {
          return codec::build_rollout_halted(h, info);
        });
        if (ack) published(*ack);
        if (!ack) done = std::unexpected(ack.error());
        break;
      }
      case Decision::Kind::kComplete: {
        log::info("rollout.completed", {{"rollout", id_text}});
        codec::RolloutCompletedInfo info{*rollout};
        auto ack = events_.publish(schema::Payload::RolloutCompleted, [&](const auto& h) {
          return codec::build_rollout_completed(h, info);
        });
        if (ack) published(*ack);
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
  std::vector<AgentId> named;
  for (const auto& r : tx.exec_params("SELECT name, planned_agents, percent, agents, started_at "
                                      "FROM rollout_rings WHERE rollout_id = $1::uuid "
                                      "ORDER BY ring_index",
                                      id)) {
    RingPlan ring{r[0].c_str(), parse_uuid_array(r[1]), r[2].as<std::uint32_t>(), std::nullopt};
    if (!r[4].is_null()) ring.started = parse_uuid_array(r[3]);
    named.insert(named.end(), ring.agents.begin(), ring.agents.end());
    s.rings.push_back(std::move(ring));
  }
  // Agents of the scope, and those named by a ring: in scope?, a release for their platform and
  // arch?, auto_update on?
  static const std::string agents_sql =
      "SELECT a.id, ($1 = 'global' OR ($1 = 'client' AND s.client_id = $2::uuid) OR "
      "($1 = 'site' AND a.site_id = $2::uuid) OR ($1 = 'agent' AND a.id = $2::uuid)), "
      "EXISTS (SELECT 1 FROM releases r WHERE r.version = $3 AND r.platform = " +
      agent_platform_sql() +
      " AND r.arch = inv.arch), "
      "COALESCE(ep.value, 'off') = 'on' "
      "FROM agents a LEFT JOIN sites s ON s.id = a.site_id "
      "LEFT JOIN agent_inventory inv ON inv.agent_id = a.id "
      "LEFT JOIN effective_policies ep ON ep.agent_id = a.id AND ep.key = 'auto_update' "
      "WHERE a.revoked_at IS NULL AND ($1 = 'global' OR ($1 = 'client' AND s.client_id = "
      "$2::uuid) OR ($1 = 'site' AND a.site_id = $2::uuid) OR ($1 = 'agent' AND a.id = "
      "$2::uuid) OR a.id = ANY($4::uuid[])) ORDER BY a.id";
  for (const auto& r :
       tx.exec_params(agents_sql, scope, scope_id, version, uuid_array_literal(named))) {
    auto a = AgentId::parse(r[0].c_str());
    if (!a) continue;
    const bool in_scope = r[1].as<bool>(false);
    const bool releasable = r[2].as<bool>();
    const bool auto_update = r[3].as<bool>();
    if (!releasable) {
      s.no_release.insert(*a);
    } else if (in_scope) {
      (auto_update ? s.in_scope : s.excluded_by_policy).push_back(*a);
    }
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
            {{"rollout", rollout.str()},
             {"ring", d.ring_index},
             {"agents", d.agents.size()},
             {"excluded_by_policy", d.excluded_by_policy.size()},
             {"no_release_for_platform", d.no_release_for_platform.size()}});
  for (const auto& agent : d.agents) {
    codec::CommandInfo cmd;
    cmd.id = rollout_command_id(rollout, d.ring_index, agent);
    cmd.agent = agent;
    cmd.issued_at = clock_.now();
    // As long as RMM_COMMANDS keeps it by default (30 days) and agents accept (their
    // max_lifetime): an agent that returns within it still gets its update.
    cmd.expires_at = cmd.issued_at + std::chrono::nanoseconds(kCommandLifetime).count();
    cmd.issuer = std::string(kActor);
    cmd.action = codec::UpdateAgentSpec{version, "", "", false};
    codec::CommandIssuedInfo issued{
        cmd.id,
        agent,
        "update_agent",
        fmt::format("update to {} (rollout {})", version, rollout.str()),
        0,
        cmd.expires_at,
        codec::Actor{std::string(kActor), ""}};
    auto ev = events_.publish(schema::Payload::CommandIssued, [&](const auto& h) {
      return codec::build_command_issued(h, issued);
    });
    if (!ev) return std::unexpected(ev.error());
    published(*ev);
    auto bytes = codec::build_signed_command(cmd, command_key_);
    auto sent = js_.publish(codec::agent_command_subject(agent), bytes, "cmd:" + cmd.id.str(),
                            std::chrono::seconds(5));
    if (!sent) return std::unexpected(sent.error());
  }
  // The ring event last: a failure before it leaves the ring unstarted, so the next pass decides
  // it again and re-sends every command with the same ids (dropped as duplicates).
  codec::RolloutRingStartedInfo info{rollout, d.ring_index, d.agents, d.excluded_by_policy,
                                     d.no_release_for_platform};
  auto ack = events_.publish(schema::Payload::RolloutRingStarted, [&](const auto& h) {
    return codec::build_rollout_ring_started(h, info);
  });
  if (!ack) return std::unexpected(ack.error());
  published(*ack);
  return {};
}

}  // namespace rmm::rollout
