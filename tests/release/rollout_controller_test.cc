// The rollout controller against a real PostgreSQL (every migration applied) and nats-server:
// read models written directly as the projector would leave them; the controller's decisions
// checked in the events it publishes to RMM_EVENTS and the commands on RMM_COMMANDS.
#include "tools/release/rollout/rollout_controller.h"

#include <doctest/doctest.h>

#include <pqxx/transaction>

#include "common/event_codec.h"
#include "common/nats_connection.h"
#include "common/service_inboxes.h"
#include "common/update_events.h"
#include "projector/db/control_rows.h"
#include "projector/db/migrations.h"
#include "projector/db/release_rows.h"
#include "projector/folds/decode.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/postgres.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

struct Stack {
  Stack() {
    auto& pg = PostgresFixture::shared();
    auto url = pg.create_database(pg.unique_name("rollout"));
    db = std::make_unique<pqxx::connection>(url);
    auto applied = projector::db::apply_migrations(
        *db, std::filesystem::path(RMM_SOURCE_DIR) / "projector/migrations");
    REQUIRE_MESSAGE(applied.has_value(), (applied ? std::string() : applied.error().message));
    // The controller runs with its own least-privilege credential, as deployed; the checks
    // read the streams with the services credential.
    nats::ConnectOptions o;
    o.url = nats.url();
    o.creds_file = nats.identity().rollout_creds().string();
    o.inbox_prefix = std::string(nats::kRolloutInboxPrefix);
    auto c = nats::Connection::connect(o);
    REQUIRE(c.has_value());
    conn = std::move(*c);
    o.creds_file = nats.services_creds().string();
    o.inbox_prefix.clear();
    auto sc = nats::Connection::connect(o);
    REQUIRE(sc.has_value());
    services = std::move(*sc);
    auto j = nats::JetStream::create(*conn, {});
    REQUIRE(j.has_value());
    js = std::move(*j);
    events = std::make_unique<tenancy::ControlPublisher>(*js, "rollout", real_clock());
  }

  void exec(const std::string& sql) {
    pqxx::work tx(*db);
    tx.exec0(sql);
    tx.commit();
  }

  // $JS.API.STREAM.INFO of `stream`, with per-subject counts when `filter` is given.
  std::string stream_info(const std::string& stream, const std::string& filter = {}) {
    std::string body = filter.empty() ? "" : "{\"subjects_filter\":\"" + filter + "\"}";
    auto reply =
        services->request("$JS.API.STREAM.INFO." + stream,
                          std::span<const std::uint8_t>(
                              reinterpret_cast<const std::uint8_t*>(body.data()), body.size()),
                          5s);
    REQUIRE(reply.has_value());
    return {reinterpret_cast<const char*>(reply->data().data()), reply->data().size()};
  }

  NatsServerFixture nats;
  std::unique_ptr<pqxx::connection> db;
  std::unique_ptr<nats::Connection> conn;      // rollout.creds: the controller's
  std::unique_ptr<nats::Connection> services;  // services.creds: the test's checks
  std::unique_ptr<nats::JetStream> js;
  std::unique_ptr<tenancy::ControlPublisher> events;
};

std::string agent_row(const AgentId& id) {
  return "INSERT INTO agents (id, last_seq, events_applied) VALUES ('" + id.str() + "', 0, 0)";
}

// The agent's latest inventory (its platform and arch) and its effective auto_update.
void describe_agent(Stack& s, const AgentId& id, const std::string& arch, bool auto_update) {
  s.exec(
      "INSERT INTO agent_inventory (agent_id, ts, seq, hostname, fqdn, os_name, os_version, "
      "os_pretty, kernel, arch, cpu_model, cpu_sockets, cpu_cores, cpu_threads, "
      "memory_total_bytes, machine_id, dmi_vendor, dmi_product, dmi_serial, package_manager, "
      "package_count, packages_truncated, service_count, services_truncated, "
      "services_unavailable_reason, interfaces, packages, services, collection_errors) VALUES ('" +
      id.str() + "', now(), 1, 'h', 'h', 'Debian GNU/Linux', '12', 'Debian', '6.1', '" + arch +
      "', 'cpu', 1, 1, 1, 1, 'm', '', '', '', 'apt', 0, false, 0, false, '', '[]', '[]', '[]', "
      "'[]')");
  s.exec("INSERT INTO effective_policies VALUES ('" + id.str() + "', 'auto_update', '" +
         (auto_update ? "on" : "off") + "', 'agent', '" + id.str() + "')");
}

void release_row(Stack& s, const std::string& version, const std::string& arch) {
  s.exec(
      "INSERT INTO releases (version, platform, arch, size, sha256, manifest, signature, key_id, "
      "published_by, published_at) VALUES ('" +
      version + "', 'linux', '" + arch + "', 1, 'x', '{}', 's', 'k', 'test', now())");
}

// What the projector would have done: its checkpoint has passed everything in RMM_EVENTS.
void catch_up(Stack& s) {
  auto info = s.stream_info("RMM_EVENTS");
  auto pos = info.find("\"last_seq\":");
  REQUIRE(pos != std::string::npos);
  const std::string last = std::to_string(std::stoull(info.substr(pos + 11)));
  s.exec("INSERT INTO projection_checkpoints (projection, stream_seq) VALUES ('core', " + last +
         ") ON CONFLICT (projection) DO UPDATE SET stream_seq = EXCLUDED.stream_seq");
}

std::string create_rollout(Stack& s, const std::string& rings_values_fmt) {
  const std::string rollout = RolloutId::generate(real_clock()).str();
  s.exec(
      "INSERT INTO rollouts (id, version, platform, arch, scope, scope_id, "
      "advance_healthy_percent, halt_failed_percent, status, created_by, created_at, "
      "updated_at) VALUES ('" +
      rollout +
      "', '2.0.0', 'linux', 'x86_64', 'global', '00000000-0000-0000-0000-000000000000', 100, "
      "50, 'created', 'test', now(), now())");
  std::string values = rings_values_fmt;
  for (auto pos = values.find("{R}"); pos != std::string::npos; pos = values.find("{R}")) {
    values.replace(pos, 3, rollout);
  }
  s.exec(
      "INSERT INTO rollout_rings (rollout_id, ring_index, name, planned_agents, percent) "
      "VALUES " +
      values);
  return rollout;
}

}  // namespace

TEST_CASE("the controller starts the canary ring, then halts the rollout when the canary fails") {
  Stack s;
  std::vector<AgentId> agents;
  release_row(s, "2.0.0", "x86_64");
  for (int i = 0; i < 4; ++i) {
    agents.push_back(AgentId::generate(real_clock()));
    s.exec(agent_row(agents.back()));
    describe_agent(s, agents.back(), "x86_64", true);
  }
  const std::string rollout = create_rollout(
      s, "('{R}', 0, 'canary', '{" + agents[0].str() + "}', 0), ('{R}', 1, 'all', '{}', 100)");
  rollout::RolloutController controller(*s.db, *s.js, *s.events, s.nats.command_signer().key,
                                        real_clock());

  // Pass 1: the canary ring starts: one update_agent command for the canary agent.
  catch_up(s);
  auto actions = controller.run_once();
  REQUIRE(actions.has_value());
  CHECK(*actions == 1);
  CHECK(s.stream_info("RMM_COMMANDS").find("\"messages\":1,") != std::string::npos);

  // The projector folds RolloutRingStarted; then the canary's updater rolls back.
  s.exec("UPDATE rollout_rings SET agents = '{" + agents[0].str() +
         "}', started_at = now() WHERE rollout_id = '" + rollout + "' AND ring_index = 0");
  s.exec("UPDATE rollouts SET status = 'running', current_ring = 0 WHERE id = '" + rollout + "'");
  catch_up(s);
  actions = controller.run_once();
  REQUIRE(actions.has_value());
  CHECK(*actions == 0);  // nothing reported yet: wait
  s.exec(
      "INSERT INTO agent_updates (agent_id, command_id, from_version, to_version, step, reason, "
      "started_at, updated_at, last_seq) VALUES ('" +
      agents[0].str() + "', '" + CommandId::generate(real_clock()).str() +
      "', '1.0.0', '2.0.0', 'rolled_back', 'crash_loop', now(), now(), 9)");

  // Pass 3: halted (and no command for the other agents).
  actions = controller.run_once();
  REQUIRE(actions.has_value());
  CHECK(*actions == 1);
  CHECK(s.stream_info("RMM_COMMANDS").find("\"messages\":1,") != std::string::npos);
  auto events = s.stream_info("RMM_EVENTS", "rmm.ctl.rollout.>");
  CHECK(events.find("\"rmm.ctl.rollout.rollout_halted\":1") != std::string::npos);
  CHECK(events.find("\"rmm.ctl.rollout.rollout_ring_started\":1") != std::string::npos);
}

TEST_CASE("a restarted controller sends each agent's command once") {
  Stack s;
  release_row(s, "2.0.0", "x86_64");
  std::vector<AgentId> agents;
  for (int i = 0; i < 3; ++i) {
    agents.push_back(AgentId::generate(real_clock()));
    s.exec(agent_row(agents.back()));
    describe_agent(s, agents.back(), "x86_64", true);
  }
  const std::string rollout = create_rollout(s, "('{R}', 0, 'all', '{}', 100)");
  catch_up(s);
  {
    rollout::RolloutController first(*s.db, *s.js, *s.events, s.nats.command_signer().key,
                                     real_clock());
    auto actions = first.run_once();
    REQUIRE(actions.has_value());
    CHECK(*actions == 1);
    // Right after its own event it waits for the projection, even with nothing folded.
    actions = first.run_once();
    REQUIRE(actions.has_value());
    CHECK(*actions == 0);
  }
  CHECK(s.stream_info("RMM_COMMANDS").find("\"messages\":3,") != std::string::npos);

  // Restarted before the projector folded RolloutRingStarted: it waits for the projection.
  rollout::RolloutController second(*s.db, *s.js, *s.events, s.nats.command_signer().key,
                                    real_clock());
  auto actions = second.run_once();
  REQUIRE(actions.has_value());
  CHECK(*actions == 0);
  // Even a projection that lost the ring (caught up, ring not folded) re-sends nothing new: the
  // commands' ids are derived from (rollout, ring, agent), and RMM_COMMANDS drops the copies.
  catch_up(s);
  actions = second.run_once();
  REQUIRE(actions.has_value());
  CHECK(*actions == 1);
  CHECK(s.stream_info("RMM_COMMANDS").find("\"messages\":3,") != std::string::npos);
  CHECK(rollout::rollout_command_id(*RolloutId::parse(rollout), 0, agents[0]) ==
        rollout::rollout_command_id(*RolloutId::parse(rollout), 0, agents[0]));
  CHECK(rollout::rollout_command_id(*RolloutId::parse(rollout), 0, agents[0]) !=
        rollout::rollout_command_id(*RolloutId::parse(rollout), 1, agents[0]));
}

TEST_CASE("percentage rings take agents with auto_update on and a release for their platform") {
  Stack s;
  release_row(s, "2.0.0", "x86_64");
  std::vector<AgentId> agents;
  for (int i = 0; i < 5; ++i) {
    agents.push_back(AgentId::generate(real_clock()));
    s.exec(agent_row(agents.back()));
  }
  describe_agent(s, agents[0], "x86_64", false);  // the named canary: the policy does not matter
  describe_agent(s, agents[1], "x86_64", true);   // taken by the percentage ring
  describe_agent(s, agents[2], "x86_64", false);  // excluded by policy
  describe_agent(s, agents[3], "aarch64", true);  // no release for its arch
  // agents[4]: no inventory yet, so no known platform: no release.
  const std::string rollout = create_rollout(
      s, "('{R}', 0, 'canary', '{" + agents[0].str() + "}', 0), ('{R}', 1, 'all', '{}', 100)");
  rollout::RolloutController controller(*s.db, *s.js, *s.events, s.nats.command_signer().key,
                                        real_clock());
  catch_up(s);
  REQUIRE(controller.run_once().has_value());
  s.exec(
      "UPDATE rollout_rings SET agents = planned_agents, started_at = now() WHERE "
      "rollout_id = '" +
      rollout + "' AND ring_index = 0");
  s.exec(
      "INSERT INTO agent_updates (agent_id, command_id, from_version, to_version, step, "
      "started_at, updated_at, last_seq) VALUES ('" +
      agents[0].str() + "', '" + CommandId::generate(real_clock()).str() +
      "', '1.0.0', '2.0.0', 'healthy', now(), now(), 5)");
  catch_up(s);
  auto actions = controller.run_once();
  REQUIRE(actions.has_value());
  CHECK(*actions == 1);
  auto per_agent = s.stream_info("RMM_COMMANDS", "rmm.cmd.>");
  CHECK(per_agent.find("rmm.cmd." + agents[0].str()) != std::string::npos);
  CHECK(per_agent.find("rmm.cmd." + agents[1].str()) != std::string::npos);
  for (int i : {2, 3, 4}) {
    CHECK(per_agent.find("rmm.cmd." + agents[i].str()) == std::string::npos);
  }
}

TEST_CASE("the release folds write releases, rollouts, rings and agent updates") {
  Stack s;
  // Through the core projection's path: decode the message, then the control writer.
  auto fold = [&](const std::vector<std::uint8_t>& bytes) {
    auto env = codec::verify_event(bytes);
    REQUIRE(env.has_value());
    auto decoded =
        projector::decode_message(codec::control_event_subject((*env)->payload_type()), bytes);
    auto* event = std::get_if<projector::ControlEvent>(&decoded);
    REQUIRE(event != nullptr);
    pqxx::work tx(*s.db);
    projector::db::apply_control_event(tx, *event, StreamSeq{1});
    tx.commit();
  };
  codec::ControlEventHeader h{EventId::generate(real_clock()),
                              ControlSourceId::generate(real_clock()), "release", 1,
                              real_clock().now()};
  fold(codec::build_release_published(h, {"2.0.0", "linux", "x86_64", 1234, std::string(64, 'a'),
                                          "{}", "ed25519 x y", "kid", "admin:test"}));
  RolloutId rollout = RolloutId::generate(real_clock());
  AgentId canary = AgentId::generate(real_clock());
  codec::RolloutCreatedInfo created{rollout, "2.0.0", "linux", "x86_64",          {},
                                    {},      100,     25,      {"admin:test", ""}};
  created.rings = {{"canary", {canary}, 0}, {"rest", {}, 100}};
  h.seq = 2;
  fold(codec::build_rollout_created(h, created));
  h.seq = 3;
  AgentId off = AgentId::generate(real_clock());
  AgentId arm = AgentId::generate(real_clock());
  fold(codec::build_rollout_ring_started(h, {rollout, 0, {canary}, {off}, {arm}}));
  h.seq = 4;
  fold(codec::build_rollout_halted(h, {rollout, "canary failed", "rollout-controller", ""}));

  pqxx::work tx(*s.db);
  auto r = tx.exec1("SELECT size, key_id FROM releases WHERE version = '2.0.0'");
  CHECK(r[0].as<std::int64_t>() == 1234);
  CHECK(r[1].as<std::string>() == "kid");
  r = tx.exec1("SELECT status, current_ring, halted_reason FROM rollouts WHERE id = '" +
               rollout.str() + "'");
  CHECK(r[0].as<std::string>() == "halted");
  CHECK(r[1].as<int>() == 0);
  CHECK(r[2].as<std::string>() == "canary failed");
  r = tx.exec1("SELECT count(*), count(started_at) FROM rollout_rings WHERE rollout_id = '" +
               rollout.str() + "'");
  CHECK(r[0].as<int>() == 2);
  CHECK(r[1].as<int>() == 1);
  r = tx.exec1(
      "SELECT excluded_by_policy::text, no_release_for_platform::text FROM rollout_rings "
      "WHERE ring_index = 0 AND rollout_id = '" +
      rollout.str() + "'");
  CHECK(r[0].as<std::string>() == "{" + off.str() + "}");
  CHECK(r[1].as<std::string>() == "{" + arm.str() + "}");

  // UpdateProgress: a later step replaces an earlier one, never the reverse.
  CommandId command = CommandId::generate(real_clock());
  projector::UpdateProgressRow installed{command, "1.0.0", "2.0.0", "installed", "", ""};
  projector::UpdateProgressRow rolled{command, "1.0.0", "2.0.0", "rolled_back", "crash_loop", ""};
  projector::db::write_update_progress(tx, {{canary, 7, real_clock().now(), &installed},
                                            {canary, 9, real_clock().now(), &rolled},
                                            {canary, 8, real_clock().now(), &installed}});
  r = tx.exec1("SELECT step, reason, last_seq FROM agent_updates WHERE agent_id = '" +
               canary.str() + "'");
  CHECK(r[0].as<std::string>() == "rolled_back");
  CHECK(r[1].as<std::string>() == "crash_loop");
  CHECK(r[2].as<std::int64_t>() == 9);
}
