// Issue 16, item 1: enrollment cannot take over an agent. Through the real enrollment path (a real
// nats-server, PostgreSQL, rmm-projector, the responder as rmm-api runs it, agent/enroll): a
// fingerprint or an agent id is no proof; a re-enrollment keeps its id only by signing with the
// agent's current key, which is then revoked; it never crosses to another client.
#include <doctest/doctest.h>

#include <pqxx/transaction>
#include <thread>

#include "admin/nkeys.h"
#include "common/files.h"
#include "tests/enroll/enroll_stack.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string text(pqxx::connection& db, const std::string& sql) {
  pqxx::read_transaction tx(db);
  auto r = tx.exec1(sql);
  return r[0].is_null() ? std::string() : r[0].as<std::string>();
}

std::string public_key_of(const fs::path& state_dir) {
  auto key = broker::KeyPair::from_seed(creds_seed(state_dir / "agent.creds"));
  REQUIRE(key.has_value());
  return key->public_key();
}

// What the victim must still be after an attempt: in its site, with its one key, and working.
void check_victim_intact(EnrollStack& stack, const AgentId& victim, const SiteId& site,
                         const fs::path& state, const std::string& key) {
  std::string id = "'" + victim.str() + "'";
  CHECK(text(stack.db(), "SELECT site_id::text FROM agents WHERE id = " + id) == site.str());
  CHECK(text(stack.db(), "SELECT public_key FROM agents WHERE id = " + id) == key);
  CHECK(count(stack.db(), "SELECT count(*) FROM agent_keys WHERE agent_id = " + id) == 1);
  CHECK(count(stack.db(), "SELECT count(*) FROM agent_keys WHERE agent_id = " + id +
                              " AND public_key = '" + key + "' AND revoked_at IS NULL") == 1);
  auto published = publish_as_agent(stack.nats().url(), state, victim);
  CHECK_MESSAGE(published.has_value(), (published ? "" : published.error().message));
}

// Polls (bounded) until the state directory's credential no longer publishes: a revocation
// reloads the server asynchronously.
bool credential_refused(EnrollStack& stack, const fs::path& state, const AgentId& id) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    if (!publish_as_agent(stack.nats().url(), state, id)) return true;
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

}  // namespace

TEST_CASE("an enrollment code of client A cannot take over client B's agent") {
  EnrollStack stack;
  const SiteId victim_site = stack.site();
  const SiteId attacker_site = stack.new_client_site("Mallory");
  fs::path victim_state = stack.dir() / "victim";
  auto victim = agent::enroll::enroll(stack.options(stack.new_code(), victim_state), machine(1));
  REQUIRE_MESSAGE(victim.has_value(), error_of(victim));
  const std::string victim_key = public_key_of(victim_state);
  const std::string attacker_code = stack.new_code(attacker_site);

  // The victim's fingerprint (machine id, serial, MACs: all in its inventory) and nothing else.
  fs::path fresh = stack.dir() / "attacker-fresh";
  auto by_fingerprint = agent::enroll::enroll(stack.options(attacker_code, fresh), machine(1));
  REQUIRE_MESSAGE(by_fingerprint.has_value(), error_of(by_fingerprint));
  CHECK(by_fingerprint->agent != victim->agent);
  CHECK(by_fingerprint->site_id == attacker_site.str());
  CHECK_FALSE(by_fingerprint->reenrolled);
  check_victim_intact(stack, victim->agent, victim_site, victim_state, victim_key);
  // The attacker's credential is for its own new id only.
  CHECK_FALSE(publish_as_agent(stack.nats().url(), fresh, victim->agent).has_value());
  CHECK(count(stack.db(), "SELECT count(*) FROM clone_suspicions WHERE agent_id = '" +
                              victim->agent.str() + "' AND new_agent_id = '" +
                              by_fingerprint->agent.str() + "'") == 1);

  // The victim's id too, without its key.
  fs::path named = stack.dir() / "attacker-named";
  fs::create_directories(named);
  REQUIRE(files::write_atomic(named / "agent_id", victim->agent.str() + "\n", 0600).has_value());
  auto by_id = agent::enroll::enroll(stack.options(attacker_code, named), machine(1));
  REQUIRE_MESSAGE(by_id.has_value(), error_of(by_id));
  CHECK(by_id->agent != victim->agent);
  CHECK(by_id->site_id == attacker_site.str());
  check_victim_intact(stack, victim->agent, victim_site, victim_state, victim_key);

  // The victim's id with a proof signed by another key (the attacker's own credential).
  fs::copy_file(fresh / "agent.creds", named / "agent.creds", fs::copy_options::overwrite_existing);
  REQUIRE(files::write_atomic(named / "agent_id", victim->agent.str() + "\n", 0600).has_value());
  auto by_forgery = agent::enroll::enroll(stack.options(attacker_code, named), machine(1));
  REQUIRE_MESSAGE(by_forgery.has_value(), error_of(by_forgery));
  CHECK(by_forgery->agent != victim->agent);
  check_victim_intact(stack, victim->agent, victim_site, victim_state, victim_key);

  // Even with the victim's code (same client), the fingerprint alone is no proof.
  auto same_client =
      agent::enroll::enroll(stack.options(stack.new_code(), stack.dir() / "other"), machine(1));
  REQUIRE_MESSAGE(same_client.has_value(), error_of(same_client));
  CHECK(same_client->agent != victim->agent);
  check_victim_intact(stack, victim->agent, victim_site, victim_state, victim_key);
}

TEST_CASE("re-enrollment proves the agent's key, revokes the old one, and stays in its client") {
  EnrollStack stack;
  fs::path state = stack.dir() / "agent";
  auto first = agent::enroll::enroll(stack.options(stack.new_code(), state), machine(1));
  REQUIRE_MESSAGE(first.has_value(), error_of(first));
  fs::path old_state = stack.dir() / "agent-before";
  fs::copy(state, old_state, fs::copy_options::recursive);
  const std::string old_key = public_key_of(state);
  REQUIRE(publish_as_agent(stack.nats().url(), old_state, first->agent).has_value());

  auto again = agent::enroll::enroll(stack.options(stack.new_code(), state), machine(1));
  REQUIRE_MESSAGE(again.has_value(), error_of(again));
  CHECK(again->agent == first->agent);
  CHECK(again->reenrolled);
  const std::string new_key = public_key_of(state);
  CHECK(new_key != old_key);
  // The old key is revoked at the broker and in the read model; the new one works.
  CHECK(credential_refused(stack, old_state, first->agent));
  auto published = publish_as_agent(stack.nats().url(), state, first->agent);
  CHECK_MESSAGE(published.has_value(), (published ? "" : published.error().message));
  std::string id = "'" + first->agent.str() + "'";
  CHECK(text(stack.db(), "SELECT public_key FROM agents WHERE id = " + id) == new_key);
  CHECK(count(stack.db(), "SELECT count(*) FROM agent_keys WHERE agent_id = " + id +
                              " AND revoked_at IS NULL") == 1);
  CHECK(count(stack.db(), "SELECT count(*) FROM agent_keys WHERE public_key = '" + old_key +
                              "' AND revoked_at IS NOT NULL") == 1);

  SUBCASE("with a code of another client it is refused, and nothing changes") {
    const SiteId other_site = stack.new_client_site("Other client");
    auto moved =
        agent::enroll::enroll(stack.options(stack.new_code(other_site), state), machine(1));
    REQUIRE_FALSE(moved.has_value());
    CHECK(moved.error().code == Error::Code::kInvalidInput);
    CHECK(moved.error().message.find("other_client") != std::string::npos);
    CHECK(text(stack.db(), "SELECT site_id::text FROM agents WHERE id = " + id) ==
          stack.site().str());
    CHECK(public_key_of(state) == new_key);  // a refusal changes nothing in the state dir
    CHECK(publish_as_agent(stack.nats().url(), state, first->agent).has_value());
  }

  SUBCASE("with another site of the same client it moves there") {
    auto site = stack.intents().create_site(stack.client(), "Branch", "test");
    REQUIRE(site.has_value());
    stack.wait_projected(site->stream_seq);
    auto moved =
        agent::enroll::enroll(stack.options(stack.new_code(SiteId(site->id)), state), machine(1));
    REQUIRE_MESSAGE(moved.has_value(), error_of(moved));
    CHECK(moved->agent == first->agent);
    CHECK(moved->site_id == SiteId(site->id).str());
  }

  SUBCASE("a proof dated outside the allowed skew is refused") {
    FakeClock late(real_clock().now() - std::chrono::nanoseconds(2h).count());
    auto options = stack.options(stack.new_code(), state);
    options.clock = &late;
    auto stale = agent::enroll::enroll(options, machine(1));
    REQUIRE_FALSE(stale.has_value());
    CHECK(stale.error().message.find("stale_proof") != std::string::npos);
    CHECK(publish_as_agent(stack.nats().url(), state, first->agent).has_value());
  }
}

TEST_CASE("the projector never moves an agent into another client's site") {
  EnrollStack stack;
  fs::path state = stack.dir() / "agent";
  auto out = agent::enroll::enroll(stack.options(stack.new_code(), state), machine(1));
  REQUIRE_MESSAGE(out.has_value(), error_of(out));
  const std::string key = public_key_of(state);
  const SiteId foreign = stack.new_client_site("Foreign");

  // Whoever holds the services credential can publish any control event: the fold must hold.
  auto intruder = broker::KeyPair::generate(broker::KeyRole::kUser).public_key();
  auto ack = stack.publisher().publish(schema::Payload::AgentEnrolled, [&](const auto& h) {
    return codec::build_agent_enrolled(h, {out->agent,
                                           foreign,
                                           intruder,
                                           std::string(64, 'e'),
                                           EnrollmentCodeId::generate(real_clock()),
                                           "intruder",
                                           true,
                                           {}});
  });
  REQUIRE(ack.has_value());
  stack.wait_projected(ack->seq);
  std::string id = "'" + out->agent.str() + "'";
  CHECK(text(stack.db(), "SELECT site_id::text FROM agents WHERE id = " + id) ==
        stack.site().str());
  CHECK(text(stack.db(), "SELECT public_key FROM agents WHERE id = " + id) == key);
  CHECK(count(stack.db(),
              "SELECT count(*) FROM agent_keys WHERE public_key = '" + intruder + "'") == 0);
  CHECK(count(stack.db(), "SELECT count(*) FROM dead_letters WHERE stream_seq = " +
                              std::to_string(ack->seq.value) +
                              " AND subject = 'rmm.ctl.agent.agent_enrolled'") == 1);
}
