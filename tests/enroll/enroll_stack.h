// The enrollment test stack: a real nats-server and PostgreSQL, the rmm-projector binary, the
// enrollment responder in-process (as rmm-api runs it, revoking retired keys in the server's
// config and reloading it), and the admin-side intents for creating clients, sites and codes.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <pqxx/connection>
#include <string>

#include "admin/tenancy/intents.h"
#include "agent/enroll/enroll_client.h"
#include "api/db/pg_pool.h"
#include "api/enroll/enroll_responder.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"

namespace rmm::test {

struct EnrollStackOptions {
  bool tls = false;        // nats-server requires TLS; every client here pins its CA
  bool leafnodes = false;  // a hub for site leaf nodes (tests/fixtures/leaf_node.h)
};

class EnrollStack {
 public:
  explicit EnrollStack(EnrollStackOptions options = {});
  ~EnrollStack();

  NatsServerFixture& nats() { return nats_; }
  const std::string& db_url() const { return db_url_; }
  tenancy::Intents& intents() { return *intents_; }
  tenancy::ControlPublisher& publisher() { return *publisher_; }
  nats::Connection& services() { return *services_; }
  tenancy::TenancyReadModel& read_model() { return *read_model_; }
  pqxx::connection& db() { return *pg_; }
  const SiteId& site() const { return site_; }
  const ClientId& client() const { return client_; }
  const TempDir& dir() const { return dir_; }

  // A code for the default site, applied by the projector before it returns.
  std::string new_code(std::chrono::milliseconds ttl = std::chrono::hours(1));
  std::string new_code(const SiteId& site, std::chrono::milliseconds ttl = std::chrono::hours(1));
  // A new client with one site (another tenant than the default site's), applied.
  SiteId new_client_site(const std::string& client_name);
  void wait_projected(StreamSeq seq);

  agent::enroll::EnrollOptions options(const std::string& code,
                                       const std::filesystem::path& state_dir) const;

 private:
  TempDir dir_{"enroll"};
  NatsServerFixture nats_;
  std::string db_url_;
  Process projector_;
  std::unique_ptr<api::PgPool> pool_;
  std::unique_ptr<api::enroll::EnrollResponder> responder_;
  std::unique_ptr<nats::Connection> services_;
  std::unique_ptr<nats::JetStream> js_;
  std::unique_ptr<pqxx::connection> pg_;
  std::unique_ptr<tenancy::TenancyReadModel> read_model_;
  std::unique_ptr<tenancy::ControlPublisher> publisher_;
  std::unique_ptr<tenancy::Intents> intents_;
  ClientId client_;
  SiteId site_;
};

// Machine facts of a made-up machine `n` (distinct machine-id and MAC per n).
agent::enroll::MachineFacts machine(int n);

// "enrolled", or the refusal's message: for CHECK messages.
std::string error_of(const Result<agent::enroll::EnrollOutcome>& r);

// The one bigint a query answers.
std::int64_t count(pqxx::connection& db, const std::string& sql);

// The seed of a .creds file.
std::string creds_seed(const std::filesystem::path& creds);

// Connects with the state directory's agent.creds (inbox _INBOX.<id>) and publishes one
// heartbeat of `id`, waiting for the stream's ack.
Status publish_as_agent(const std::string& url, const std::filesystem::path& state_dir,
                        const AgentId& id);

}  // namespace rmm::test
