// The RMM account's limits as nats-server 2.9.10 applies them (admin/claims.h, AccountLimits):
// JetStream refuses a stream without a byte limit, memory streams and streams past the count,
// an agent connection gets no more than its subscriptions, and the platform still works (the
// fixture applies the streams; the other broker, projector and agent tests run under the same
// limits).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <thread>

#include "admin/streams.h"
#include "common/files.h"
#include "tests/broker/test_client.h"
#include "tests/broker/test_peers.h"
#include "tests/fixtures/nats_server.h"

using namespace rmm;
using namespace rmm::broker;
using namespace std::chrono_literals;

namespace rmm::test {

// Polls the connection's status; true once nats.c closed it.
bool wait_until_closed(natsConnection* nc, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (natsConnection_Status(nc) != NATS_CONN_STATUS_CLOSED) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace rmm::test

namespace {

std::string stream_config(const std::string& name, std::string_view storage, std::int64_t bytes) {
  return fmt::format(
      R"({{"name":"{0}","subjects":["limits.{0}.>"],"storage":"{1}","max_bytes":{2},)"
      R"("num_replicas":1}})",
      name, storage, bytes);
}

Result<boost::json::object> create_stream(natsConnection* nc, const std::string& name,
                                          std::string_view storage, std::int64_t bytes) {
  return js_api_request(nc, "$JS.API.STREAM.CREATE." + name, stream_config(name, storage, bytes),
                        5s);
}

}  // namespace

TEST_CASE("the RMM account's JetStream limits: byte limits required, no memory, 16 streams") {
  test::NatsServerFixture server;
  auto services = test::connect_services(server);
  natsConnection* nc = services->nc();

  auto info = js_api_request(nc, "$JS.API.INFO", "", 5s);
  REQUIRE_MESSAGE(info.has_value(), info.error().message);
  const auto& limits = info->at("limits").as_object();
  CHECK(limits.at("max_memory").to_number<std::int64_t>() == 0);
  CHECK(limits.at("max_storage").to_number<std::int64_t>() == -1);
  CHECK(limits.at("max_streams").to_number<std::int64_t>() == 16);
  CHECK(limits.at("max_consumers").to_number<std::int64_t>() == 100'000);
  CHECK(limits.at("max_bytes_required").as_bool());
  CHECK(info->at("streams").to_number<std::int64_t>() == 4);  // the fixture applied them

  // Every stream must have a byte limit, and file storage.
  auto unlimited = create_stream(nc, "UNLIMITED", "file", -1);
  REQUIRE_FALSE(unlimited.has_value());
  INFO(unlimited.error().message);
  CHECK(unlimited.error().message.find("max bytes") != std::string::npos);
  auto memory = create_stream(nc, "MEMORY", "memory", 1 << 20);
  CHECK_FALSE(memory.has_value());

  // 12 more streams with limits fit; the 17th does not.
  for (int i = 0; i < 12; ++i) {
    auto s = create_stream(nc, fmt::format("EXTRA{}", i), "file", 1 << 20);
    REQUIRE_MESSAGE(s.has_value(), i, ": ", s.error().message);
  }
  auto seventeenth = create_stream(nc, "EXTRA12", "file", 1 << 20);
  REQUIRE_FALSE(seventeenth.has_value());
  CHECK(seventeenth.error().message.find("maximum number of streams") != std::string::npos);
}

TEST_CASE("an agent connection holds at most 64 subscriptions; its next connection works") {
  test::NatsServerFixture server;
  auto agent = test::connect_agent(server);
  natsConnection* nc = agent.client->nc();
  std::vector<natsSubscription*> subs;
  // Subjects under its own inbox, which its permissions allow. The server answers the one past
  // the limit with "-ERR 'Maximum Subscriptions Exceeded'", upon which nats.c closes the
  // connection.
  for (int i = 0; i < 70; ++i) {
    natsSubscription* sub = nullptr;
    const auto subject = fmt::format("_INBOX.{}.limits.{}", agent.id.str(), i);
    if (natsConnection_SubscribeSync(&sub, nc, subject.c_str()) != NATS_OK) break;
    subs.push_back(sub);
  }
  natsConnection_FlushTimeout(nc, 2000);
  CHECK(test::wait_until_closed(nc, 5s));
  const char* last = nullptr;
  const natsStatus why = natsConnection_GetLastError(nc, &last);
  const std::string reason =
      fmt::format("{}: {}", natsStatus_GetText(why), last != nullptr ? last : "");
  INFO(reason);
  CHECK(subs.size() > 60);  // every subscription up to the limit was taken
  CHECK(reason.find("maximum subscriptions exceeded") != std::string::npos);
  for (auto* sub : subs) natsSubscription_Destroy(sub);

  // A connection that stays within the limit publishes its events as before.
  natsStatus status = NATS_OK;
  auto again = test::TestClient::connect(server.url(), server.mint_agent(agent.id),
                                         agent_inbox_prefix(agent.id), &status);
  REQUIRE_MESSAGE(again != nullptr, natsStatus_GetText(status));
  const auto own = fmt::format("rmm.evt.{}.started", agent.id.str());
  natsMsg* reply = nullptr;
  REQUIRE(natsConnection_RequestString(&reply, again->nc(), own.c_str(), "s", 5000) == NATS_OK);
  CHECK(std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply))
            .find("\"stream\":\"RMM_EVENTS\"") != std::string::npos);
  natsMsg_Destroy(reply);
}
