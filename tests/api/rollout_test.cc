// Rollouts end to end with the real projector in between (tests/api/intent_stack.h: nats-server,
// PostgreSQL, rmm-projector, rmm-api): a release published as ReleasePublished, the auto_update
// policy set through the API, a rollout created through the API, the controller
// (tools/release/rollout) deciding only on what the projector folded, and agents simulated by
// publishing the UpdateProgress events their updater would send. The API shows every step.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pqxx/pqxx>
#include <thread>

#include "common/update_events.h"
#include "tests/api/intent_stack.h"
#include "tools/release/rollout/rollout_controller.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
using schema::PolicyScope;
using schema::UserRole;

namespace {

struct World {
  IntentStack& s = shared_stack();
  std::unique_ptr<nats::JetStream> js;
  std::unique_ptr<tenancy::ControlPublisher> events;
  TestUser owner, admin_a, tech_a, admin_b;
  AgentId a1, a2, a3_arm, a4_off;
  std::map<AgentId, std::uint64_t> seq;

  World() {
    auto j = nats::JetStream::create(s.services(), {});
    REQUIRE(j.has_value());
    js = std::move(*j);
    events = std::make_unique<tenancy::ControlPublisher>(*js, "test-release", real_clock());
    owner = s.user(UserRole::Owner, {});
    admin_a = s.user(UserRole::Admin, {{PolicyScope::Client, s.client_a.bytes()}});
    tech_a = s.user(UserRole::Technician, {{PolicyScope::Client, s.client_a.bytes()}});
    admin_b = s.user(UserRole::Admin, {{PolicyScope::Client, s.client_b.bytes()}});
    a1 = s.agent_a;
    a2 = s.enroll_agent(s.site_a, "a2");
    a3_arm = s.enroll_agent(s.site_a, "a3-arm");
    a4_off = s.enroll_agent(s.site_a, "a4-off");
    for (const auto& a : {a1, a2, a4_off, s.agent_b}) inventory(a, "x86_64");
    inventory(a3_arm, "aarch64");
    // Client A opts in to automatic updates; a4 opts out again.
    auto put = s.call("PUT", "/api/v1/policies?wait=5000",
                      R"({"scope":"client","scope_id":")" + s.client_a.str() +
                          R"(","settings":{"auto_update":"on"}})",
                      admin_a);
    REQUIRE_MESSAGE(put.status == 202, put.body);
    put = s.call("PUT", "/api/v1/policies?wait=5000",
                 R"({"scope":"agent","scope_id":")" + a4_off.str() +
                     R"(","settings":{"auto_update":"off"}})",
                 admin_a);
    REQUIRE_MESSAGE(put.status == 202, put.body);
    release("9.1.0");
    release("9.2.0");
  }

  void inventory(const AgentId& a, const std::string& arch) {
    pqxx::nontransaction tx(s.db());
    tx.exec_params(
        "INSERT INTO agent_inventory (agent_id, ts, seq, hostname, fqdn, os_name, os_version, "
        "os_pretty, kernel, arch, cpu_model, cpu_sockets, cpu_cores, cpu_threads, "
        "memory_total_bytes, machine_id, dmi_vendor, dmi_product, dmi_serial, package_manager, "
        "package_count, packages_truncated, service_count, services_truncated, "
        "services_unavailable_reason, interfaces, packages, services, collection_errors) VALUES "
        "($1::uuid, now(), 1, 'h', 'h', 'Debian GNU/Linux', '12', 'Debian', '6.1', $2, 'cpu', 1, "
        "1, 1, 1, 'm', '', '', '', 'apt', 0, false, 0, false, '', '[]', '[]', '[]', '[]')",
        a.str(), arch);
  }

  void release(const std::string& version) {
    codec::ReleasePublishedInfo info{version,
                                     "linux",
                                     "x86_64",
                                     1234,
                                     std::string(64, 'a'),
                                     R"({"notes":"<b>notes</b>"})",
                                     "ed25519 k s",
                                     "k",
                                     "admin:test"};
    auto ack = events->publish(schema::Payload::ReleasePublished, [&](const auto& h) {
      return codec::build_release_published(h, info);
    });
    REQUIRE(ack.has_value());
    s.wait_projected(ack->seq.value);
  }

  // What the agent's updater reports, through the agent's outbox (an ordered agent event).
  void progress(const AgentId& agent, const CommandId& command, const std::string& to,
                schema::UpdateStep step, const std::string& reason = {}) {
    auto& n = seq[agent];
    if (n == 0) n = 1000;
    codec::AgentEventHeader h{EventId::generate(real_clock()), agent, AgentSeq{++n},
                              real_clock().now(), schema::Lane::Ordered};
    codec::UpdateProgressInfo info{command, "1.0.0", to, step, reason, "simulated"};
    auto bytes = codec::build_update_progress(h, info);
    REQUIRE(s.services()
                .publish(codec::agent_event_subject(agent, schema::Payload::UpdateProgress), bytes)
                .has_value());
    const std::string want(codec::update_step_name(step));
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (true) {
      pqxx::nontransaction tx(s.db());
      auto r = tx.exec_params(
          "SELECT step FROM agent_updates WHERE agent_id = $1::uuid AND command_id = $2::uuid",
          agent.str(), command.str());
      if (!r.empty() && r[0][0].c_str() == want) break;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(20ms);
    }
  }

  // Passes of `c` until it acts (bounded): the controller waits for the projector itself.
  void act(rollout::RolloutController& c) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (true) {
      auto n = c.run_once();
      REQUIRE_MESSAGE(n.has_value(), n.error().message);
      if (*n > 0) return;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(50ms);
    }
  }

  // Passes of `c` for `d`: it must not act.
  void idle(rollout::RolloutController& c, std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      auto n = c.run_once();
      REQUIRE(n.has_value());
      CHECK(*n == 0);
      std::this_thread::sleep_for(50ms);
    }
  }

  rollout::RolloutController controller() {
    return rollout::RolloutController(s.db(), *js, *events, s.nats().command_signer().key,
                                      real_clock());
  }

  boost::json::object get(const std::string& path, const TestUser& u) {
    auto r = s.call("GET", path, "", u);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return json_body(r);
  }

  // The update_agent commands on rmm.cmd.<agent> in RMM_COMMANDS.
  int commands_to(const AgentId& agent) {
    const std::string subject = "rmm.cmd." + agent.str();
    const std::string body = "{\"subjects_filter\":\"" + subject + "\"}";
    auto reply =
        s.services().request("$JS.API.STREAM.INFO.RMM_COMMANDS",
                             std::span<const std::uint8_t>(
                                 reinterpret_cast<const std::uint8_t*>(body.data()), body.size()),
                             5s);
    REQUIRE(reply.has_value());
    auto info =
        boost::json::parse(std::string_view(reinterpret_cast<const char*>(reply->data().data()),
                                            reply->data().size()))
            .as_object();
    const auto& state = info.at("state").as_object();
    const auto* subjects = state.if_contains("subjects");
    if (subjects == nullptr || !subjects->is_object()) return 0;
    const auto* n = subjects->as_object().if_contains(subject);
    return n == nullptr ? 0 : static_cast<int>(n->as_int64());
  }
};

World& world() {
  static World w;
  return w;
}

std::string create_body(const std::string& version, const std::string& scope_json,
                        const std::string& rings) {
  return R"({"version":")" + version + "\"," + scope_json + R"(,"rings":)" + rings +
         R"(,"advance_healthy_percent":100,"halt_failed_percent":50})";
}

const boost::json::object& ring(const boost::json::object& rollout, std::size_t i) {
  return rollout.at("rings").as_array().at(i).as_object();
}

std::int64_t count(const boost::json::object& o, const char* step) {
  return o.at("counts").as_object().at(step).as_int64();
}

}  // namespace

TEST_CASE("a ring rollout with the projector in between: canary healthy, next ring, completed") {
  auto& w = world();
  auto& s = w.s;
  const std::string scope = R"("scope":"client","scope_id":")" + s.client_a.str() + "\"";
  const std::string rings =
      R"([{"name":"canary","agent_ids":[")" + w.a1.str() + R"("]},{"name":"rest","percent":100}])";
  auto tech = s.call("POST", "/api/v1/rollouts", create_body("9.1.0", scope, rings), w.tech_a);
  CHECK(tech.status == 403);
  auto created =
      s.call("POST", "/api/v1/rollouts?wait=5000", create_body("9.1.0", scope, rings), w.admin_a);
  REQUIRE_MESSAGE(created.status == 202, created.body);
  CHECK(json_body(created).at("applied").as_bool());
  const std::string id(json_body(created).at("id").as_string());
  const auto rollout_id = *RolloutId::parse(id);
  CHECK(s.call("GET", "/api/v1/rollouts/" + id, "", w.admin_b).status == 404);

  auto r = w.get("/api/v1/rollouts/" + id, w.admin_a);
  CHECK(r.at("status").as_string() == "created");
  CHECK(r.at("platform").as_string() == "linux");
  CHECK(r.at("ring_count").as_int64() == 2);

  // Ring 0: the canary.
  {
    auto first = w.controller();
    w.act(first);
  }
  CHECK(w.commands_to(w.a1) == 1);
  // Restarted right away: the new controller decides only once the projector folded the ring.
  auto controller = w.controller();
  w.idle(controller, 1500ms);
  CHECK(w.commands_to(w.a1) == 1);
  CHECK(w.commands_to(w.a2) == 0);
  r = w.get("/api/v1/rollouts/" + id, w.admin_a);
  CHECK(r.at("status").as_string() == "running");
  CHECK(ring(r, 0).at("started").as_bool());
  CHECK(ring(r, 0).at("members").as_int64() == 1);
  CHECK(count(ring(r, 0), "pending") == 1);
  CHECK_FALSE(ring(r, 1).at("started").as_bool());

  // The canary's updater reports; healthy starts the next ring.
  const CommandId c1 = rollout::rollout_command_id(rollout_id, 0, w.a1);
  w.progress(w.a1, c1, "9.1.0", schema::UpdateStep::Started);
  r = w.get("/api/v1/rollouts/" + id, w.admin_a);
  CHECK(count(ring(r, 0), "started") == 1);
  w.idle(controller, 300ms);
  w.progress(w.a1, c1, "9.1.0", schema::UpdateStep::Healthy);
  w.act(controller);
  CHECK(w.commands_to(w.a2) == 1);
  CHECK(w.commands_to(w.a3_arm) == 0);   // no release for aarch64
  CHECK(w.commands_to(w.a4_off) == 0);   // auto_update off
  CHECK(w.commands_to(s.agent_b) == 0);  // another client
  w.idle(controller, 500ms);
  r = w.get("/api/v1/rollouts/" + id, w.admin_a);
  CHECK(r.at("current_ring").as_int64() == 1);
  CHECK(ring(r, 1).at("members").as_int64() == 1);
  CHECK(ring(r, 1).at("excluded_by_policy").as_int64() == 1);
  CHECK(ring(r, 1).at("no_release_for_platform").as_int64() == 1);
  CHECK(r.at("excluded_by_policy").as_int64() == 1);
  CHECK(r.at("no_release_for_platform").as_int64() == 1);
  CHECK(count(r, "healthy") == 1);
  CHECK(count(r, "pending") == 1);

  const CommandId c2 = rollout::rollout_command_id(rollout_id, 1, w.a2);
  w.progress(w.a2, c2, "9.1.0", schema::UpdateStep::Healthy);
  w.act(controller);
  w.idle(controller, 300ms);
  r = w.get("/api/v1/rollouts/" + id, w.admin_a);
  CHECK(r.at("status").as_string() == "completed");
  CHECK(count(r, "healthy") == 2);
  CHECK(w.commands_to(w.a1) == 1);
  CHECK(w.commands_to(w.a2) == 1);

  auto history = w.get("/api/v1/agents/" + w.a1.str() + "/updates", w.admin_a);
  REQUIRE(history.at("items").as_array().size() >= 1);
  const auto& last = history.at("items").as_array()[0].as_object();
  CHECK(last.at("to_version").as_string() == "9.1.0");
  CHECK(last.at("step").as_string() == "healthy");
  CHECK(s.call("GET", "/api/v1/agents/" + w.a1.str() + "/updates", "", w.admin_b).status == 404);
  auto list = s.call("GET", "/api/v1/rollouts", "", w.admin_b);
  CHECK(list.body.find(id) == std::string::npos);
  list = s.call("GET", "/api/v1/rollouts", "", w.tech_a);
  CHECK(list.body.find(id) != std::string::npos);
  auto releases = w.get("/api/v1/releases?version=9.1.0", w.tech_a);
  REQUIRE(releases.at("items").as_array().size() == 1);
  CHECK(releases.at("items").as_array()[0].at("notes").as_string() == "<b>notes</b>");
}

TEST_CASE("a failing canary halts a global rollout; a client user sees only its own agents") {
  auto& w = world();
  auto& s = w.s;
  const std::string rings =
      R"([{"name":"canary","agent_ids":[")" + w.a2.str() + R"("]},{"name":"rest","percent":100}])";
  auto refused = s.call("POST", "/api/v1/rollouts",
                        create_body("9.2.0", R"("scope":"global")", rings), w.admin_a);
  CHECK(refused.status == 403);  // a global rollout needs a global grant
  auto created = s.call("POST", "/api/v1/rollouts?wait=5000",
                        create_body("9.2.0", R"("scope":"global")", rings), w.owner);
  REQUIRE_MESSAGE(created.status == 202, created.body);
  const std::string id(json_body(created).at("id").as_string());
  auto controller = w.controller();
  w.act(controller);
  const CommandId c = rollout::rollout_command_id(*RolloutId::parse(id), 0, w.a2);
  w.progress(w.a2, c, "9.2.0", schema::UpdateStep::RolledBack, "crash_loop");
  w.act(controller);
  w.idle(controller, 500ms);
  auto r = w.get("/api/v1/rollouts/" + id, w.owner);
  CHECK(r.at("status").as_string() == "halted");
  CHECK(std::string(r.at("halted_reason").as_string()).find("1 of 1") != std::string::npos);
  CHECK(count(r, "rolled_back") == 1);
  CHECK(w.commands_to(s.agent_b) == 0);
  // The global rollout is visible to client B's admin, without A's agents.
  auto b = w.get("/api/v1/rollouts/" + id, w.admin_b);
  CHECK(b.at("agents").as_array().empty());
  CHECK(count(b, "rolled_back") == 0);
  CHECK(boost::json::serialize(b).find(w.a2.str()) == std::string::npos);
  auto a = w.get("/api/v1/rollouts/" + id, w.admin_a);
  REQUIRE(a.at("agents").as_array().size() == 1);
  CHECK(a.at("agents").as_array()[0].at("reason").as_string() == "crash_loop");
  // Halting it needs a global grant; it is halted already for the owner.
  CHECK(s.call("POST", "/api/v1/rollouts/" + id + "/halt", "", w.admin_a).status == 403);
  CHECK(s.call("POST", "/api/v1/rollouts/" + id + "/halt", "", w.owner).status == 409);
}

TEST_CASE("halting a rollout through the API: roles, scope, strict body, audited") {
  auto& w = world();
  auto& s = w.s;
  const std::string scope = R"("scope":"client","scope_id":")" + s.client_a.str() + "\"";
  const std::string rings = R"([{"name":"all","percent":100}])";
  // Strict bodies.
  CHECK(s.call("POST", "/api/v1/rollouts", create_body("9.1.0", scope, rings) + "x", w.admin_a)
            .status == 400);
  CHECK(s.call("POST", "/api/v1/rollouts",
               R"({"version":"9.1.0","rings":[{"name":"a","percent":100}],"extra":1})", w.owner)
            .status == 400);
  CHECK(s.call("POST", "/api/v1/rollouts",
               R"({"version":"9.1.0","rings":[{"name":"a","percent":100,"agent_ids":[")" +
                   w.a1.str() + R"("]}]})",
               w.owner)
            .status == 400);
  CHECK(s.call("POST", "/api/v1/rollouts", R"({"version":"9.1.0","rings":[]})", w.owner).status ==
        400);
  CHECK(s.call("POST", "/api/v1/rollouts",
               R"({"version":"9.1.0","rings":[{"name":"a","percent":101}]})", w.owner)
            .status == 400);
  CHECK(s.call("POST", "/api/v1/rollouts", create_body("7.7.7", scope, rings), w.admin_a).status ==
        409);  // nothing published
  // A canary outside the rollout's scope.
  const std::string site_scope = R"("scope":"site","scope_id":")" + s.site_b.str() + "\"";
  CHECK(s.call("POST", "/api/v1/rollouts",
               create_body("9.1.0", site_scope,
                           R"([{"name":"c","agent_ids":[")" + w.a1.str() + R"("]}])"),
               w.owner)
            .status == 400);

  auto created =
      s.call("POST", "/api/v1/rollouts?wait=5000", create_body("9.1.0", scope, rings), w.admin_a);
  REQUIRE_MESSAGE(created.status == 202, created.body);
  const std::string id(json_body(created).at("id").as_string());
  const std::string halt = "/api/v1/rollouts/" + id + "/halt";
  CHECK(s.call("POST", halt, "", w.admin_b).status == 404);
  CHECK(s.call("POST", halt, "", w.tech_a).status == 403);
  CHECK(s.call("POST", halt, R"({"reason":"x"})", w.admin_a).status == 400);
  CHECK(s.call("POST", "/api/v1/rollouts/not-a-uuid/halt", "", w.admin_a).status == 404);
  auto halted = s.call("POST", halt + "?wait=5000", "", w.admin_a);
  REQUIRE_MESSAGE(halted.status == 202, halted.body);
  CHECK(json_body(halted).at("applied").as_bool());
  auto r = w.get("/api/v1/rollouts/" + id, w.admin_a);
  CHECK(r.at("status").as_string() == "halted");
  auto me = w.get("/api/v1/auth/me", w.admin_a);
  CHECK(r.at("halted_reason").as_string() ==
        "halted by " + std::string(me.at("username").as_string()));
  CHECK(s.call("POST", halt, "", w.admin_a).status == 409);
  // A halted rollout is never advanced.
  auto controller = w.controller();
  w.idle(controller, 500ms);
  // Audited: creation and halt, each with the user as actor.
  pqxx::nontransaction tx(s.db());
  auto audit = tx.exec_params1(
      "SELECT count(*) FROM audit_log WHERE target_kind = 'rollout' AND target_id = $1 AND "
      "actor = $2",
      id, "user:" + w.admin_a.id.str());
  CHECK(audit[0].as<int>() == 2);
}

TEST_CASE("a manual update_agent command: admins only, explicit, ignores auto_update") {
  auto& w = world();
  auto& s = w.s;
  const int before = w.commands_to(w.a4_off);
  const std::string body = R"({"agent_ids":[")" + w.a4_off.str() +
                           R"("],"kind":"update_agent","version":"9.1.0","allow_downgrade":false})";
  CHECK(s.call("POST", "/api/v1/commands", body, w.tech_a).status == 403);
  CHECK(s.call("POST", "/api/v1/commands", body, w.admin_b).status == 404);
  CHECK(s.call("POST", "/api/v1/commands",
               R"({"agent_ids":[")" + w.a4_off.str() + R"("],"kind":"update_agent"})", w.admin_a)
            .status == 400);  // no version
  CHECK(s.call("POST", "/api/v1/commands",
               R"({"agent_ids":[")" + w.a4_off.str() +
                   R"("],"kind":"update_agent","version":"9.1.0","sha256":"XYZ"})",
               w.admin_a)
            .status == 400);
  CHECK(s.call("POST", "/api/v1/commands",
               R"({"agent_ids":[")" + w.a4_off.str() + R"("],"kind":"reboot","version":"1"})",
               w.admin_a)
            .status == 400);  // version belongs to update_agent only
  auto sent = s.call("POST", "/api/v1/commands?wait=5000", body, w.admin_a);
  REQUIRE_MESSAGE(sent.status == 202, sent.body);
  // a4 opted out of automatic updates, but this command is explicit.
  CHECK(w.commands_to(w.a4_off) == before + 1);
  const std::string id(
      json_body(sent).at("commands").as_array()[0].as_object().at("id").as_string());
  auto cmd = w.get("/api/v1/commands/" + id, w.admin_a);
  CHECK(cmd.at("kind").as_string() == "update_agent");
  CHECK(cmd.at("summary").as_string() == "update to 9.1.0");
}
