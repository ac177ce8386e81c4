// The stack the intent and live tests run against: a real nats-server (streams applied),
// PostgreSQL, the rmm-projector binary (so ?wait= and the read models are real), and rmm-api
// in-process (App). Two clients A and B, a site each, one enrolled agent per site.
//
// Users are made the way the API would see them: UserCreated through the log (projected into
// `users`), a credential row and a session row whose token the test then presents.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "admin/tenancy/control_publisher.h"
#include "admin/tenancy/intents.h"
#include "api/app.h"
#include "common/control_plane_events.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "tests/fixtures/http_client.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"

namespace rmm::test {

struct TestUser {
  UserId id;
  std::string token;
};

class IntentStack {
 public:
  // `nats`: the broker's options; with TLS every component pins the fixture's CA.
  explicit IntentStack(NatsServerOptions nats = {});
  ~IntentStack();

  int port() const { return app_->port(); }
  NatsServerFixture& nats() { return nats_; }
  pqxx::connection& db() { return *pg_; }
  nats::Connection& services() { return *services_; }

  // A user with `role` and `scopes`, signed in (its session token in .token).
  TestUser user(schema::UserRole role, std::vector<codec::ScopeRef> scopes);
  // Another sign-in of an existing user: a new session token.
  std::string new_session(const UserId& user);
  // A second rmm-api over the same database and broker, configured like the first and then by
  // `tweak` (for limits a test wants small); started.
  std::unique_ptr<api::App> start_api(const std::function<void(api::ApiConfig&)>& tweak);
  // An agent enrolled into `site` (projected before this returns).
  AgentId enroll_agent(const SiteId& site, const std::string& hostname);
  // The same agent enrolled again (reenrolled), into `site` (projected before this returns).
  void reenroll_agent(const AgentId& agent, const SiteId& site, const std::string& hostname);

  HttpResponse call(const std::string& method, const std::string& target, const std::string& body,
                    const TestUser& user);
  void wait_projected(std::uint64_t seq);
  // The raw bytes of RMM_EVENTS message `seq` and its subject.
  std::pair<std::string, std::vector<std::uint8_t>> stored_event(std::uint64_t seq);
  // The CommandEnvelope of the last message on rmm.cmd.<agent> in RMM_COMMANDS, if any; throws
  // unless it is signed by the installation's command key for that agent.
  std::optional<std::vector<std::uint8_t>> last_command(const AgentId& agent);

  ClientId client_a, client_b;
  SiteId site_a, site_b;
  AgentId agent_a, agent_b;

 private:
  std::uint64_t publish(schema::Payload type, const tenancy::ControlPublisher::Build& build);
  api::ApiConfig api_config() const;

  TempDir dir_{"intents"};
  NatsServerFixture nats_;
  std::string db_url_;
  Process projector_;
  std::unique_ptr<nats::Connection> services_;
  std::unique_ptr<nats::JetStream> js_;
  std::unique_ptr<pqxx::connection> pg_;
  std::unique_ptr<tenancy::ControlPublisher> publisher_;
  std::unique_ptr<api::App> app_;
  int user_n_ = 0;
};

// One stack per test binary, started on first use.
IntentStack& shared_stack();

// Parses a JSON body (throws on garbage: fails the test).
boost::json::object json_body(const HttpResponse& r);

}  // namespace rmm::test
