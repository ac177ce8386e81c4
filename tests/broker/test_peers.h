// The two kinds of peers the broker tests connect: an agent with its own minted credential and
// private inbox, and the services user.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "admin/identity.h"
#include "common/clock.h"
#include "common/ids.h"
#include "tests/broker/test_client.h"
#include "tests/fixtures/nats_server.h"

namespace rmm::test {

struct TestAgent {
  AgentId id = AgentId::generate(real_clock());
  std::unique_ptr<TestClient> client;
};

inline TestAgent connect_agent(NatsServerFixture& server) {
  TestAgent a;
  natsStatus status = NATS_OK;
  a.client = TestClient::connect(server.url(), server.mint_agent(a.id),
                                 broker::agent_inbox_prefix(a.id), &status);
  REQUIRE_MESSAGE(a.client != nullptr, std::string(natsStatus_GetText(status)));
  return a;
}

inline std::unique_ptr<TestClient> connect_services(NatsServerFixture& server) {
  natsStatus status = NATS_OK;
  auto c = TestClient::connect(server.url(), server.services_creds(), {}, &status);
  REQUIRE_MESSAGE(c != nullptr, std::string(natsStatus_GetText(status)));
  return c;
}

}  // namespace rmm::test
