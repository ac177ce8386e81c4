// Issue 18's intents against the real stack (real nats-server, PostgreSQL and rmm-projector):
// a bulk command is one batch read back per agent, many alerts acknowledged and resolved in one
// call, an agent moved to another site of its client, and a process stopped by pid and name.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <pqxx/nontransaction>

#include "common/command_codec.h"
#include "common/event_codec.h"
#include "tests/api/intent_stack.h"

using namespace rmm;
using namespace rmm::test;
using schema::PolicyScope;
using schema::UserRole;

namespace {

std::string scalar(const std::string& sql) {
  pqxx::nontransaction tx(shared_stack().db());
  auto r = tx.exec(sql);
  REQUIRE(r.size() == 1);
  return r[0][0].is_null() ? "NULL" : r[0][0].c_str();
}

const schema::Envelope* event_at(std::uint64_t seq, std::vector<std::uint8_t>& keep) {
  auto [subject, bytes] = shared_stack().stored_event(seq);
  keep = std::move(bytes);
  auto env = codec::verify_event(keep);
  REQUIRE(env.has_value());
  return *env;
}

std::uint64_t seq_of(const HttpResponse& r) {
  return json_body(r).at("stream_seq").as_int64();
}

codec::ScopeRef client_scope(const ClientId& c) {
  return {PolicyScope::Client, c.bytes()};
}

std::string insert_alert(const AgentId& agent) {
  auto id = AlertId::generate(real_clock());
  pqxx::nontransaction tx(shared_stack().db());
  tx.exec_params(
      "INSERT INTO alerts (id, agent_id, rule, subject, severity, status, message, raised_at, "
      "raised_stream_seq) VALUES ($1::uuid, $2::uuid, 'disk', $1, 'warning', 'active', 'full', "
      "now(), 1)",
      id.str(), agent.str());
  return id.str();
}

}  // namespace

TEST_CASE("bulk: a command for several agents is one batch, read back per agent") {
  auto& s = shared_stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  const AgentId second = s.enroll_agent(s.site_a, "bulk-second");
  auto r = s.call("POST", "/api/v1/commands?wait=10000",
                  R"({"agent_ids":[")" + s.agent_a.str() + R"(",")" + second.str() +
                      R"("],"kind":"shell","script":"echo bulk"})",
                  tech);
  REQUIRE(r.status == 202);
  auto body = json_body(r);
  REQUIRE(body.contains("batch_id"));
  const std::string batch(body.at("batch_id").as_string());
  REQUIRE(body.at("commands").as_array().size() == 2);
  // The last CommandIssued carries it (the first one too: both rows have it below).
  std::vector<std::uint8_t> keep;
  const auto* env = event_at(seq_of(r), keep);
  REQUIRE(env->payload_type() == schema::Payload::CommandIssued);
  CHECK(uuid_to_string(codec::from_wire(env->payload_as_CommandIssued()->batch_id())) == batch);

  auto read = s.call("GET", "/api/v1/command-batches/" + batch, "", tech);
  REQUIRE(read.status == 200);
  auto items = json_body(read).at("items").as_array();
  REQUIRE(items.size() == 2);
  for (const auto& item : items) {
    CHECK(item.at("summary").as_string() == "echo bulk");
    CHECK(item.at("status").as_string() == "queued");
    CHECK(item.at("stdout").as_string().empty());
  }
  CHECK(scalar("SELECT count(*) FROM audit_log WHERE detail->>'batch_id' = '" + batch + "'") ==
        "2");

  // Another client's user sees nothing of it; a single command has no batch.
  auto other = s.user(UserRole::Technician, {client_scope(s.client_b)});
  CHECK(s.call("GET", "/api/v1/command-batches/" + batch, "", other).status == 404);
  auto one = s.call(
      "POST", "/api/v1/commands",
      R"({"agent_ids":[")" + s.agent_a.str() + R"("],"kind":"shell","script":"true"})", tech);
  REQUIRE(one.status == 202);
  CHECK_FALSE(json_body(one).contains("batch_id"));
}

TEST_CASE("bulk: many alerts acknowledged and resolved in one call; foreign ones are 404") {
  auto& s = shared_stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  const std::string a1 = insert_alert(s.agent_a), a2 = insert_alert(s.agent_a);
  const std::string theirs = insert_alert(s.agent_b);

  auto ack = s.call("POST", "/api/v1/alerts/acknowledge?wait=10000",
                    R"({"ids":[")" + a1 + R"(",")" + a2 + R"("],"note":"on it"})", tech);
  REQUIRE(ack.status == 202);
  CHECK(json_body(ack).at("ids").as_array().size() == 2);
  CHECK(scalar("SELECT count(*) FROM alerts WHERE ack_note = 'on it' AND acknowledged_by = "
               "'user:" +
               tech.id.str() + "'") == "2");
  // The read model shows the note.
  auto list = s.call("GET", "/api/v1/alerts?agent_id=" + s.agent_a.str(), "", tech);
  REQUIRE(list.status == 200);
  int noted = 0;
  const auto listed = json_body(list);
  for (const auto& a : listed.at("items").as_array()) {
    if (a.at("ack_note").is_string() && a.at("ack_note").as_string() == "on it") ++noted;
  }
  CHECK(noted == 2);

  // One foreign id: 404 before anything is published.
  auto mixed = s.call("POST", "/api/v1/alerts/resolve",
                      R"({"ids":[")" + a1 + R"(",")" + theirs + R"("]})", tech);
  CHECK(mixed.status == 404);
  CHECK(scalar("SELECT status FROM alerts WHERE id = '" + a1 + "'") == "active");
  CHECK(s.call("POST", "/api/v1/alerts/resolve", R"({"ids":[]})", tech).status == 400);
  CHECK(s.call("POST", "/api/v1/alerts/resolve", R"({"ids":["x"]})", tech).status == 400);
  auto ro = s.user(UserRole::ReadOnly, {client_scope(s.client_a)});
  CHECK(s.call("POST", "/api/v1/alerts/resolve", R"({"ids":[")" + a1 + R"("]})", ro).status == 403);

  auto res = s.call("POST", "/api/v1/alerts/resolve?wait=10000",
                    R"({"ids":[")" + a1 + R"(",")" + a2 + R"("]})", tech);
  REQUIRE(res.status == 202);
  CHECK(scalar("SELECT count(*) FROM alerts WHERE id IN ('" + a1 + "','" + a2 +
               "') AND status = 'resolved'") == "2");
}

TEST_CASE("agents: move to another site of the same client, audited, with its policy") {
  auto& s = shared_stack();
  auto admin = s.user(UserRole::Admin, {client_scope(s.client_a)});
  auto site = s.call("POST", "/api/v1/sites?wait=10000",
                     R"({"client_id":")" + s.client_a.str() + R"(","name":"annex"})", admin);
  REQUIRE(site.status == 202);
  const std::string annex(json_body(site).at("id").as_string());
  auto pol = s.call(
      "PUT", "/api/v1/policies?wait=10000",
      R"({"scope":"site","scope_id":")" + annex + R"(","settings":{"alert.cpu.percent":"55"}})",
      admin);
  REQUIRE(pol.status == 202);
  const AgentId mover = s.enroll_agent(s.site_a, "mover");

  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  const std::string path = "/api/v1/agents/" + mover.str() + "/move";
  CHECK(s.call("POST", path, R"({"site_id":")" + annex + R"("})", tech).status == 403);
  CHECK(s.call("POST", path, R"({"site_id":")" + s.site_b.str() + R"("})", admin).status == 404);
  CHECK(s.call("POST", path, R"({"site_id":")" + s.site_a.str() + R"("})", admin).status == 409);
  CHECK(s.call("POST", path, "{}", admin).status == 400);
  auto global = s.user(UserRole::Admin, {{PolicyScope::Global, {}}});
  CHECK(s.call("POST", path, R"({"site_id":")" + s.site_b.str() + R"("})", global).status ==
        409);  // another client's site

  auto moved = s.call("POST", path + "?wait=10000", R"({"site_id":")" + annex + R"("})", admin);
  REQUIRE(moved.status == 202);
  CHECK(json_body(moved).at("applied").as_bool());
  std::vector<std::uint8_t> keep;
  const auto* env = event_at(seq_of(moved), keep);
  REQUIRE(env->payload_type() == schema::Payload::AgentMoved);
  CHECK(uuid_to_string(codec::from_wire(env->payload_as_AgentMoved()->from_site_id())) ==
        s.site_a.str());
  CHECK(scalar("SELECT site_id::text FROM agents WHERE id = '" + mover.str() + "'") == annex);
  CHECK(scalar("SELECT value FROM effective_policies WHERE agent_id = '" + mover.str() +
               "' AND key = 'alert.cpu.percent'") == "55");
  CHECK(scalar("SELECT site_id::text FROM audit_log WHERE action = 'agent_moved' AND target_id "
               "= '" +
               mover.str() + "'") == annex);
}

TEST_CASE("commands: kill_process is a signed command for one agent, with pid and name") {
  auto& s = shared_stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  auto r = s.call("POST", "/api/v1/commands",
                  R"({"agent_ids":[")" + s.agent_a.str() +
                      R"("],"kind":"kill_process","pid":4242,"name":"sleep"})",
                  tech);
  REQUIRE(r.status == 202);
  auto bytes = s.last_command(s.agent_a);
  REQUIRE(bytes.has_value());
  auto verified = codec::verify_command(*bytes);
  REQUIRE(verified.has_value());
  auto info = codec::read_command(**verified);
  REQUIRE(info.has_value());
  REQUIRE(std::holds_alternative<codec::KillProcessSpec>(info->action));
  CHECK(std::get<codec::KillProcessSpec>(info->action).pid == 4242);
  CHECK(std::get<codec::KillProcessSpec>(info->action).name == "sleep");
  CHECK(s.call("POST", "/api/v1/commands",
               R"({"agent_ids":[")" + s.agent_a.str() + R"("],"kind":"kill_process","pid":4242})",
               tech)
            .status == 400);
  CHECK(s.call("POST", "/api/v1/commands",
               R"({"site_id":")" + s.site_a.str() +
                   R"(","kind":"kill_process","pid":4242,"name":"sleep"})",
               tech)
            .status == 400);
}
