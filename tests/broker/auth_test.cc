// Who may connect: only users whose JWT chains to our operator through SYS or RMM.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/claims.h"
#include "admin/files.h"
#include "admin/jwt.h"
#include "admin/streams.h"
#include "common/files.h"
#include "tests/broker/test_client.h"
#include "tests/fixtures/nats_server.h"

using namespace rmm;
using namespace rmm::broker;

TEST_CASE("anonymous and foreign credentials are refused, ours are accepted") {
  test::NatsServerFixture server;
  natsStatus status = NATS_OK;

  SUBCASE("no credentials at all") {
    CHECK(test::TestClient::connect(server.url(), {}, {}, &status) == nullptr);
    CHECK(status != NATS_OK);
  }
  SUBCASE("a user signed by an account the operator never signed") {
    auto rogue_account = KeyPair::generate(KeyRole::kAccount);
    auto user = KeyPair::generate(KeyRole::kUser);
    auto jwt = encode_jwt(user_claims(user.public_key(), UserSpec{.name = "rogue"}), rogue_account);
    auto path = server.home() / "rogue.creds";
    REQUIRE(files::write_atomic(path, format_creds(jwt, user.seed()), 0600).has_value());
    CHECK(test::TestClient::connect(server.url(), path, {}, &status) == nullptr);
    CHECK(status != NATS_OK);
  }
  SUBCASE("a user JWT claiming the RMM account as issuer but signed by another key") {
    auto user = KeyPair::generate(KeyRole::kUser);
    auto forged = encode_jwt(user_claims(user.public_key(), UserSpec{.name = "forged"}),
                             KeyPair::generate(KeyRole::kAccount));
    auto dot1 = forged.find('.');
    auto dot2 = forged.rfind('.');
    auto claims = boost::json::parse(*b64url_decode(forged.substr(dot1 + 1, dot2 - dot1 - 1)));
    claims.as_object()["iss"] = server.identity().rmm_account.public_key();
    std::string relabelled = forged.substr(0, dot1) + "." +
                             b64url_encode(boost::json::serialize(claims)) + forged.substr(dot2);
    auto path = server.home() / "forged.creds";
    REQUIRE(files::write_atomic(path, format_creds(relabelled, user.seed()), 0600).has_value());
    CHECK(test::TestClient::connect(server.url(), path, {}, &status) == nullptr);
    CHECK(status != NATS_OK);
  }
  SUBCASE("an agent credential from another installation") {
    test::TempDir other_home("other");
    auto other = init_identity(other_home.path());
    REQUIRE(other.has_value());
    auto path = server.home() / "foreign-agent.creds";
    auto agent = AgentId::generate(real_clock());
    REQUIRE(files::write_atomic(path, mint_agent_creds(*other, agent), 0600).has_value());
    CHECK(test::TestClient::connect(server.url(), path, agent_inbox_prefix(agent), &status) ==
          nullptr);
    CHECK(status != NATS_OK);
  }
  SUBCASE("our services, system and agent users") {
    CHECK(test::TestClient::connect(server.url(), server.services_creds(), {}, &status) != nullptr);
    auto sys = test::TestClient::connect(server.url(), server.sys_creds(), {}, &status);
    REQUIRE(sys != nullptr);
    // The system user really is in the system account: the server answers its $SYS requests.
    natsMsg* pong = nullptr;
    REQUIRE(natsConnection_RequestString(&pong, sys->nc(), "$SYS.REQ.SERVER.PING", "", 5000) ==
            NATS_OK);
    CHECK(std::string(natsMsg_GetData(pong), natsMsg_GetDataLength(pong)).find("\"server\"") !=
          std::string::npos);
    natsMsg_Destroy(pong);
    auto agent = AgentId::generate(real_clock());
    CHECK(test::TestClient::connect(server.url(), server.mint_agent(agent),
                                    agent_inbox_prefix(agent), &status) != nullptr);
  }
}

TEST_CASE("the fixture restarts on the same port with the same streams") {
  test::NatsServerFixture server;
  int port = server.port();
  server.kill9();
  CHECK_FALSE(server.running());
  natsStatus status = NATS_OK;
  CHECK(test::TestClient::connect(server.url(), server.services_creds(), {}, &status) == nullptr);
  server.restart();
  CHECK(server.port() == port);
  auto client = test::TestClient::connect(server.url(), server.services_creds(), {}, &status);
  REQUIRE(client != nullptr);
  auto info =
      js_api_request(client->nc(), "$JS.API.STREAM.INFO.RMM_EVENTS", "", std::chrono::seconds(5));
  CHECK(info.has_value());
}

TEST_CASE("our credentials connect every time despite nats.c's unsigned CONNECT") {
  // Without the retry in connect_with_creds, ~1 connect in 256 is refused ("Signature missing"
  // in the server log): 600 connects would then fail with probability ~90 %.
  test::NatsServerFixture server({.apply_streams = false});
  int failures = 0;
  for (int i = 0; i < 600; ++i) {
    auto nc = connect_with_creds(server.url(), server.services_creds());
    if (!nc) {
      ++failures;
      continue;
    }
    natsConnection_Destroy(*nc);
  }
  CHECK(failures == 0);
}
