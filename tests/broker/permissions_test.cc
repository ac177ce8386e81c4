// What an agent may do: publish its own events (mapped to its partition), read its own commands
// and its own inbox; nothing else, and nothing it is denied reaches the streams.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "admin/identity.h"
#include "admin/partition.h"
#include "admin/streams.h"
#include "common/service_inboxes.h"
#include "tests/broker/test_client.h"
#include "tests/broker/test_peers.h"
#include "tests/fixtures/nats_server.h"

using namespace rmm;
using namespace rmm::broker;
using namespace std::chrono_literals;

namespace {

std::string stored_subject(const AgentId& agent, std::string_view type) {
  return fmt::format("rmm.p.{}.evt.{}.{}", partition_of(agent.str(), kEventPartitions), agent.str(),
                     type);
}

std::int64_t stream_messages(natsConnection* nc, const std::string& stream) {
  auto info = js_api_request(nc, "$JS.API.STREAM.INFO." + stream, "", 5s);
  REQUIRE(info.has_value());
  return info->at("state").at("messages").to_number<std::int64_t>();
}

// The last message stored under exactly `subject` (kNotFound when there is none).
Result<boost::json::object> last_by_subject(natsConnection* nc, const std::string& stream,
                                            const std::string& subject) {
  return js_api_request(nc, "$JS.API.STREAM.MSG.GET." + stream,
                        fmt::format(R"({{"last_by_subj":"{}"}})", subject), 5s);
}

using Agent = test::TestAgent;
using test::connect_agent;
using test::connect_services;

}  // namespace

TEST_CASE("an agent's events are stored under the partition computed in C++") {
  test::NatsServerFixture server;
  auto services = connect_services(server);
  // Several agents, so more than one partition is exercised.
  for (int i = 0; i < 6; ++i) {
    auto agent = connect_agent(server);
    std::string subject = fmt::format("rmm.evt.{}.heartbeat", agent.id.str());
    std::string payload = fmt::format("hb-{}", i);
    natsMsg* reply = nullptr;
    // A request: the stream's ack comes back on the agent's private inbox.
    natsStatus s = natsConnection_RequestString(&reply, agent.client->nc(), subject.c_str(),
                                                payload.c_str(), 5000);
    REQUIRE_MESSAGE(s == NATS_OK, natsStatus_GetText(s));
    std::string ack(natsMsg_GetData(reply), natsMsg_GetDataLength(reply));
    natsMsg_Destroy(reply);
    CHECK(ack.find("\"stream\":\"RMM_EVENTS\"") != std::string::npos);

    auto stored =
        last_by_subject(services->nc(), "RMM_EVENTS", stored_subject(agent.id, "heartbeat"));
    REQUIRE_MESSAGE(stored.has_value(), stored.error().message);
    CHECK(stored->at("message").at("subject").as_string() == stored_subject(agent.id, "heartbeat"));
    CHECK(agent.client->errors().empty());
  }
  CHECK(stream_messages(services->nc(), "RMM_EVENTS") == 6);
}

TEST_CASE("an agent cannot publish as another agent, and nothing is stored") {
  test::NatsServerFixture server;
  auto services = connect_services(server);
  auto a = connect_agent(server);
  auto b = AgentId::generate(real_clock());

  std::string via_mapping = fmt::format("rmm.evt.{}.heartbeat", b.str());
  std::string direct = stored_subject(b, "heartbeat");
  std::string control = "rmm.ctl.agent.enrolled";
  CHECK(natsConnection_PublishString(a.client->nc(), via_mapping.c_str(), "x") == NATS_OK);
  CHECK(natsConnection_PublishString(a.client->nc(), direct.c_str(), "x") == NATS_OK);
  CHECK(natsConnection_PublishString(a.client->nc(), control.c_str(), "x") == NATS_OK);
  natsConnection_FlushTimeout(a.client->nc(), 5000);
  REQUIRE(a.client->wait_for_errors(3, 5s));
  for (const auto& e : a.client->errors()) {
    CHECK(e.find("Permissions Violation for Publish") != std::string::npos);
  }
  // Its own event still goes through afterwards: the connection survives the violations.
  std::string own = fmt::format("rmm.evt.{}.started", a.id.str());
  natsMsg* reply = nullptr;
  REQUIRE(natsConnection_RequestString(&reply, a.client->nc(), own.c_str(), "s", 5000) == NATS_OK);
  natsMsg_Destroy(reply);

  CHECK(stream_messages(services->nc(), "RMM_EVENTS") == 1);
  auto leaked = last_by_subject(services->nc(), "RMM_EVENTS", direct);
  REQUIRE_FALSE(leaked.has_value());
  CHECK(leaked.error().code == Error::Code::kNotFound);
}

TEST_CASE("an agent reads its own commands only") {
  test::NatsServerFixture server;
  auto services = connect_services(server);
  auto a = connect_agent(server);
  auto b = AgentId::generate(real_clock());

  natsSubscription* other = nullptr;
  std::string other_subject = "rmm.cmd." + b.str();
  REQUIRE(natsConnection_SubscribeSync(&other, a.client->nc(), other_subject.c_str()) == NATS_OK);
  natsConnection_FlushTimeout(a.client->nc(), 5000);
  REQUIRE(a.client->wait_for_errors(1, 5s));
  CHECK(a.client->errors().front().find("Permissions Violation for Subscription") !=
        std::string::npos);

  natsSubscription* own = nullptr;
  std::string own_subject = "rmm.cmd." + a.id.str();
  REQUIRE(natsConnection_SubscribeSync(&own, a.client->nc(), own_subject.c_str()) == NATS_OK);
  REQUIRE(natsConnection_FlushTimeout(a.client->nc(), 5000) == NATS_OK);
  REQUIRE(natsConnection_PublishString(services->nc(), other_subject.c_str(), "for-b") == NATS_OK);
  REQUIRE(natsConnection_PublishString(services->nc(), own_subject.c_str(), "for-a") == NATS_OK);
  REQUIRE(natsConnection_FlushTimeout(services->nc(), 5000) == NATS_OK);

  natsMsg* msg = nullptr;
  REQUIRE(natsSubscription_NextMsg(&msg, own, 5000) == NATS_OK);
  CHECK(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)) == "for-a");
  natsMsg_Destroy(msg);
  msg = nullptr;
  CHECK(natsSubscription_NextMsg(&msg, other, 300) != NATS_OK);
  if (msg != nullptr) natsMsg_Destroy(msg);
  natsSubscription_Destroy(own);
  natsSubscription_Destroy(other);
  // Both commands were also kept by RMM_COMMANDS.
  CHECK(stream_messages(services->nc(), "RMM_COMMANDS") == 2);
}

TEST_CASE("an agent has no JetStream API rights") {
  test::NatsServerFixture server;
  auto a = connect_agent(server);
  auto info = js_api_request(a.client->nc(), "$JS.API.STREAM.INFO.RMM_EVENTS", "", 1s);
  CHECK_FALSE(info.has_value());
  REQUIRE(a.client->wait_for_errors(1, 5s));
  CHECK(a.client->errors().front().find("Permissions Violation for Publish") != std::string::npos);
  auto names = js_api_request(a.client->nc(), "$JS.API.STREAM.NAMES", "", 1s);
  CHECK_FALSE(names.has_value());
}

namespace {

std::unique_ptr<test::TestClient> connect_as(test::NatsServerFixture& server,
                                             const std::filesystem::path& creds,
                                             std::string_view inbox_prefix) {
  natsStatus status = NATS_OK;
  auto c = test::TestClient::connect(server.url(), creds, std::string(inbox_prefix), &status);
  REQUIRE_MESSAGE(c != nullptr, std::string(natsStatus_GetText(status)));
  return c;
}

// Publishes and flushes; true when the server refused it (a permission violation arrived).
bool publish_refused(test::TestClient& c, const std::string& subject) {
  const std::size_t before = c.errors().size();
  REQUIRE(natsConnection_PublishString(c.nc(), subject.c_str(), "x") == NATS_OK);
  REQUIRE(natsConnection_FlushTimeout(c.nc(), 5000) == NATS_OK);
  return c.wait_for_errors(before + 1, 2s) &&
         c.errors().back().find("Permissions Violation for Publish") != std::string::npos;
}

bool subscribe_refused(test::TestClient& c, const std::string& subject) {
  const std::size_t before = c.errors().size();
  natsSubscription* sub = nullptr;
  REQUIRE(natsConnection_SubscribeSync(&sub, c.nc(), subject.c_str()) == NATS_OK);
  natsConnection_FlushTimeout(c.nc(), 5000);
  bool refused =
      c.wait_for_errors(before + 1, 2s) &&
      c.errors().back().find("Permissions Violation for Subscription") != std::string::npos;
  natsSubscription_Destroy(sub);
  return refused;
}

}  // namespace

// Issue 16, item 2: one credential with the account's full rights, shared by rmm-api and
// rmm-projector, could publish any agent's commands. Each service now has its own.
TEST_CASE("each service's credential holds only the subjects that service uses") {
  test::NatsServerFixture server;
  auto services = connect_services(server);
  const auto& id = server.identity();
  const auto agent = AgentId::generate(real_clock());
  const std::string command = "rmm.cmd." + agent.str();
  const std::string event = "rmm.evt." + agent.str() + ".heartbeat";
  const std::string stored_event = stored_subject(agent, "heartbeat");
  const std::string agent_inbox = "_INBOX." + agent.str() + ".>";

  SUBCASE("the projector cannot command agents, speak for them or change streams") {
    auto p = connect_as(server, id.projector_creds(), nats::kProjectorInboxPrefix);
    CHECK(publish_refused(*p, command));
    CHECK(publish_refused(*p, event));
    CHECK(publish_refused(*p, stored_event));
    CHECK(publish_refused(*p, "rmm.ctl.user.user_created"));
    CHECK(publish_refused(*p, "$JS.API.STREAM.DELETE.RMM_COMMANDS"));
    CHECK(publish_refused(*p, "$JS.API.STREAM.PURGE.RMM_EVENTS"));
    CHECK(publish_refused(*p, "$JS.API.CONSUMER.CREATE.RMM_COMMANDS"));
    CHECK(publish_refused(*p, "$JS.API.CONSUMER.DURABLE.CREATE.RMM_COMMANDS.steal"));
    CHECK(subscribe_refused(*p, agent_inbox));
    CHECK(subscribe_refused(*p, "rmm.enroll.request"));
    CHECK(publish_refused(*p, "_INBOX_ENROLL.X.0"));  // a forged enrollment reply
    // What it does need still works: reading RMM_EVENTS' state, publishing its clock ticks.
    CHECK(js_api_request(p->nc(), "$JS.API.STREAM.INFO.RMM_EVENTS", "", 5s).has_value());
    CHECK_FALSE(publish_refused(*p, "rmm.ctl.clock.tick"));
    CHECK(stream_messages(services->nc(), "RMM_COMMANDS") == 0);
    CHECK(stream_messages(services->nc(), "RMM_EVENTS") == 1);  // the tick only
  }
  SUBCASE("the API commands agents but cannot speak for them or change streams") {
    auto a = connect_as(server, id.api_creds(), nats::kApiInboxPrefix);
    CHECK(publish_refused(*a, event));
    CHECK(publish_refused(*a, stored_event));
    CHECK(publish_refused(*a, "rmm.rel.1_0_0.linux.x86_64.manifest"));
    CHECK(publish_refused(*a, "$JS.API.STREAM.DELETE.RMM_COMMANDS"));
    CHECK(publish_refused(*a, "$JS.API.CONSUMER.CREATE.RMM_EVENTS"));
    CHECK(subscribe_refused(*a, agent_inbox));
    CHECK(subscribe_refused(*a, "_INBOX_PROJECTOR.>"));
    CHECK_FALSE(publish_refused(*a, command));
    // Enrollment replies (also after a re-enrollment updated the account JWT).
    CHECK_FALSE(publish_refused(*a, "_INBOX_ENROLL.X.0"));
    CHECK(stream_messages(services->nc(), "RMM_COMMANDS") == 1);
    CHECK(stream_messages(services->nc(), "RMM_EVENTS") == 0);
  }
  SUBCASE("the rollout controller sends update commands and rollout events, nothing else") {
    auto r = connect_as(server, id.rollout_creds(), nats::kRolloutInboxPrefix);
    CHECK(publish_refused(*r, event));
    CHECK(publish_refused(*r, "rmm.ctl.user.user_created"));
    CHECK(publish_refused(*r, "rmm.ctl.agent.agent_revoked"));
    CHECK(publish_refused(*r, "$JS.API.CONSUMER.CREATE.RMM_COMMANDS"));
    CHECK(publish_refused(*r, "_INBOX_ENROLL.X.0"));
    CHECK(subscribe_refused(*r, agent_inbox));
    CHECK_FALSE(publish_refused(*r, command));
    CHECK_FALSE(publish_refused(*r, "rmm.ctl.rollout.rollout_halted"));
  }
}
