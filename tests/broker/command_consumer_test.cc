// An agent's command consumer: created by the services side, readable by that agent alone through
// the two subjects its credential grants (next-message and ack), with core NATS only.
#include "admin/command_consumer.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <optional>

#include "admin/identity.h"
#include "admin/streams.h"
#include "tests/broker/test_client.h"
#include "tests/broker/test_peers.h"
#include "tests/fixtures/nats_server.h"

using namespace rmm;
using namespace rmm::broker;
using namespace std::chrono_literals;

namespace {

using Agent = test::TestAgent;
using test::connect_agent;
using test::connect_services;

void publish_command(test::TestClient& services, const AgentId& agent, const std::string& body) {
  natsMsg* reply = nullptr;
  std::string subject = "rmm.cmd." + agent.str();
  REQUIRE(natsConnection_RequestString(&reply, services.nc(), subject.c_str(), body.c_str(),
                                       5000) == NATS_OK);
  natsMsg_Destroy(reply);
}

// One message or status from a pull: data, reply (the ack subject) and the Status header.
struct Pulled {
  std::string data;
  std::string reply;
  std::string status;
};

// A pull request on `consumer` from `client`'s inbox `_INBOX.<owner>.pull`, like the agent's.
std::optional<Pulled> pull_one(test::TestClient& client, const AgentId& inbox_owner,
                               const std::string& consumer, std::chrono::milliseconds wait) {
  std::string inbox = fmt::format("_INBOX.{}.pull", inbox_owner.str());
  natsSubscription* sub = nullptr;
  REQUIRE(natsConnection_SubscribeSync(&sub, client.nc(), inbox.c_str()) == NATS_OK);
  std::string next = fmt::format("$JS.API.CONSUMER.MSG.NEXT.RMM_COMMANDS.{}", consumer);
  std::string request =
      fmt::format(R"({{"batch":1,"expires":{}}})", std::chrono::nanoseconds(wait).count());
  REQUIRE(natsConnection_PublishRequestString(client.nc(), next.c_str(), inbox.c_str(),
                                              request.c_str()) == NATS_OK);
  natsMsg* msg = nullptr;
  std::optional<Pulled> out;
  if (natsSubscription_NextMsg(&msg, sub, static_cast<std::int64_t>((wait + 1s).count())) ==
      NATS_OK) {
    Pulled p;
    p.data.assign(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    if (natsMsg_GetReply(msg) != nullptr) p.reply = natsMsg_GetReply(msg);
    const char* status = nullptr;
    if (natsMsgHeader_Get(msg, "Status", &status) == NATS_OK && status != nullptr) {
      p.status = status;
    }
    out = p;
    natsMsg_Destroy(msg);
  }
  natsSubscription_Destroy(sub);
  return out;
}

std::int64_t consumer_pending(test::TestClient& services, const AgentId& agent) {
  auto info =
      js_api_request(services.nc(), "$JS.API.CONSUMER.INFO.RMM_COMMANDS." + agent.str(), "", 5s);
  REQUIRE_MESSAGE(info.has_value(), (info ? std::string() : info.error().message));
  return info->at("num_pending").to_number<std::int64_t>() +
         info->at("num_ack_pending").to_number<std::int64_t>();
}

}  // namespace

TEST_CASE("the command consumer is created once, with the agent's filter") {
  test::NatsServerFixture server;
  auto services = connect_services(server);
  auto agent = AgentId::generate(real_clock());
  REQUIRE(ensure_agent_command_consumer(services->nc(), agent).has_value());
  REQUIRE(ensure_agent_command_consumer(services->nc(), agent).has_value());
  auto info =
      js_api_request(services->nc(), "$JS.API.CONSUMER.INFO.RMM_COMMANDS." + agent.str(), "", 5s);
  REQUIRE(info.has_value());
  const auto& config = info->at("config").as_object();
  CHECK(config.at("filter_subject").as_string() == "rmm.cmd." + agent.str());
  CHECK(config.at("durable_name").as_string() == agent.str());
  CHECK(config.at("ack_policy").as_string() == "explicit");
  CHECK(config.at("deliver_policy").as_string() == "all");
}

TEST_CASE("an agent pulls and acks its own commands with core NATS only") {
  test::NatsServerFixture server;
  auto services = connect_services(server);
  auto a = connect_agent(server);
  publish_command(*services, a.id, "first");  // published before the agent asks: kept
  publish_command(*services, a.id, "second");

  auto first = pull_one(*a.client, a.id, a.id.str(), 2s);
  REQUIRE(first.has_value());
  CHECK(first->data == "first");
  CHECK(first->status.empty());
  CHECK(first->reply.starts_with("$JS.ACK.RMM_COMMANDS." + a.id.str() + "."));
  // natsMsg_Ack needs a JetStream subscription: with core NATS the ack is a publish.
  REQUIRE(natsConnection_PublishString(a.client->nc(), first->reply.c_str(), "+ACK") == NATS_OK);
  auto second = pull_one(*a.client, a.id, a.id.str(), 2s);
  REQUIRE(second.has_value());
  CHECK(second->data == "second");
  // An ack sent as a request is confirmed by the server (an empty reply on the agent's inbox).
  natsMsg* confirm = nullptr;
  REQUIRE(natsConnection_RequestString(&confirm, a.client->nc(), second->reply.c_str(), "+ACK",
                                       5000) == NATS_OK);
  natsMsg_Destroy(confirm);
  CHECK(consumer_pending(*services, a.id) == 0);

  auto none = pull_one(*a.client, a.id, a.id.str(), 500ms);
  REQUIRE(none.has_value());
  CHECK(none->data.empty());
  CHECK(none->status == "408");  // the request's expiry passed with nothing to deliver
  CHECK(a.client->errors().empty());
}

TEST_CASE("an unacked command is delivered again") {
  test::NatsServerFixture server;
  auto services = connect_services(server);
  auto a = connect_agent(server);
  publish_command(*services, a.id, "once");
  auto got = pull_one(*a.client, a.id, a.id.str(), 2s);
  REQUIRE(got.has_value());
  // A negative ack asks for redelivery now (the agent's crash is the same after AckWait).
  REQUIRE(natsConnection_PublishString(a.client->nc(), got->reply.c_str(), "-NAK") == NATS_OK);
  auto again = pull_one(*a.client, a.id, a.id.str(), 2s);
  REQUIRE(again.has_value());
  CHECK(again->data == "once");
  CHECK(again->reply != got->reply);  // the delivery count is part of the ack subject
}

TEST_CASE("an agent cannot pull another agent's commands, create consumers or ack for others") {
  test::NatsServerFixture server;
  auto services = connect_services(server);
  auto a = connect_agent(server);
  auto b = connect_agent(server);
  publish_command(*services, b.id, "secret-for-b");

  // A pulls from B's consumer into its own inbox: denied, nothing delivered.
  auto stolen = pull_one(*a.client, a.id, b.id.str(), 500ms);
  CHECK_FALSE(stolen.has_value());
  REQUIRE(a.client->wait_for_errors(1, 5s));
  CHECK(a.client->errors().back().find("Permissions Violation for Publish") != std::string::npos);

  // Creating a consumer of its own choosing (durable, ephemeral, unfiltered) is denied too.
  std::size_t before = a.client->errors().size();
  std::string body = fmt::format(
      R"({{"stream_name":"RMM_COMMANDS","config":{{"durable_name":"steal","ack_policy":"none"}}}})");
  CHECK_FALSE(
      js_api_request(a.client->nc(), "$JS.API.CONSUMER.DURABLE.CREATE.RMM_COMMANDS.steal", body, 1s)
          .has_value());
  CHECK_FALSE(js_api_request(a.client->nc(), "$JS.API.CONSUMER.CREATE.RMM_COMMANDS",
                             R"({"stream_name":"RMM_COMMANDS","config":{"ack_policy":"none"}})", 1s)
                  .has_value());
  CHECK_FALSE(
      js_api_request(a.client->nc(), "$JS.API.CONSUMER.INFO.RMM_COMMANDS." + b.id.str(), "", 1s)
          .has_value());
  CHECK_FALSE(
      js_api_request(a.client->nc(), "$JS.API.STREAM.MSG.GET.RMM_COMMANDS", R"({"seq":1})", 1s)
          .has_value());
  REQUIRE(a.client->wait_for_errors(before + 4, 5s));
  auto consumers = js_api_request(services->nc(), "$JS.API.CONSUMER.NAMES.RMM_COMMANDS", "", 5s);
  REQUIRE(consumers.has_value());
  CHECK(consumers->at("consumers").as_array().size() == 2);  // A's and B's, nothing else

  // B gets its command; A acking B's delivery is denied and B's message stays unacked.
  auto own = pull_one(*b.client, b.id, b.id.str(), 2s);
  REQUIRE(own.has_value());
  CHECK(own->data == "secret-for-b");
  before = a.client->errors().size();
  REQUIRE(natsConnection_PublishString(a.client->nc(), own->reply.c_str(), "+ACK") == NATS_OK);
  natsConnection_FlushTimeout(a.client->nc(), 5000);
  REQUIRE(a.client->wait_for_errors(before + 1, 5s));
  CHECK(consumer_pending(*services, b.id) == 1);
  // And B cannot read into A's inbox: its own inbox is the only one it may subscribe to.
  natsSubscription* sub = nullptr;
  std::string a_inbox = fmt::format("_INBOX.{}.pull", a.id.str());
  REQUIRE(natsConnection_SubscribeSync(&sub, b.client->nc(), a_inbox.c_str()) == NATS_OK);
  natsConnection_FlushTimeout(b.client->nc(), 5000);
  REQUIRE(b.client->wait_for_errors(1, 5s));
  CHECK(b.client->errors().back().find("Permissions Violation for Subscription") !=
        std::string::npos);
  natsSubscription_Destroy(sub);
}
