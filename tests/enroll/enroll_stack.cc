#include "tests/enroll/enroll_stack.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pqxx/pqxx>
#include <thread>

#include "api/enroll/key_revoker.h"
#include "common/agent_local.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "common/pg.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/projector_process.h"

namespace rmm::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

}  // namespace

EnrollStack::EnrollStack(EnrollStackOptions options)
    : nats_(NatsServerOptions{.tls = options.tls, .leafnodes = options.leafnodes}) {
  auto& pg = PostgresFixture::shared();
  db_url_ = pg.create_database(pg.unique_name("enroll"));
  projector_ =
      Process::start({.program = std::string(RMM_BIN_DIR) + "/rmm-projector",
                      .args = {"--nats-url=" + nats_.url(),
                               "--nats-creds=" + nats_.identity().projector_creds().string(),
                               "--nats-ca=" + nats_.tls().ca_file, "--pg-url=" + db_url_,
                               "--fetch-timeout=200ms", "--http-port=0"},
                      .log_file = dir_ / "projector.log"});

  nats::ConnectOptions opts{.url = nats_.url(),
                            .creds_file = nats_.services_creds().string(),
                            .tls_ca_file = nats_.tls().ca_file};
  services_ = value_or_throw(nats::Connection::connect(opts), "services connect");
  js_ = value_or_throw(nats::JetStream::create(*services_, {}), "jetstream");
  pg_ = value_or_throw(pg::connect(db_url_), "pg connect");
  read_model_ = std::make_unique<tenancy::TenancyReadModel>(*pg_);
  publisher_ = std::make_unique<tenancy::ControlPublisher>(*js_, "admin", real_clock());
  intents_ = std::make_unique<tenancy::Intents>(*publisher_, read_model_.get(), real_clock());

  // The projector applies the migrations: wait until the checkpoint table answers.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!read_model_->checkpoint()) {
    if (std::chrono::steady_clock::now() > deadline || !projector_.running()) {
      throw std::runtime_error("rmm-projector did not come up (see projector.log)");
    }
    std::this_thread::sleep_for(50ms);
  }
  auto client = value_or_throw(intents_->create_client("Acme", "test"), "create client");
  wait_projected(client.stream_seq);
  client_ = ClientId(client.id);
  auto site = value_or_throw(intents_->create_site(client_, "HQ", "test"), "site");
  wait_projected(site.stream_seq);
  site_ = SiteId(site.id);

  pool_ = std::make_unique<api::PgPool>(api::PgPool::Options{.url = db_url_, .size = 2});
  auto signer = value_or_throw(broker::load_agent_signer(nats_.home()), "agent signer");
  // As tools/rmm keeps it: the responder reloads the server after revoking retired keys.
  fs::path pid_file = dir_ / "nats.pid";
  if (!files::write_atomic(pid_file, fmt::format("{}\n", nats_.pid()), 0600)) {
    throw std::runtime_error("writing the pid file");
  }
  // rmm-api's own credential, as deployed: it must be enough to answer and create consumers.
  api::enroll::ResponderOptions responder_options{
      .nats_url = nats_.url(),
      .nats_creds = nats_.identity().api_creds().string(),
      .nats_tls = nats_.tls(),
      .revoker = api::enroll::home_key_revoker(
          {.home = nats_.home(), .nats_config = nats_.config_path(), .pid_file = pid_file},
          real_clock())};
  // The command keys the reply hands out, as rmm-api takes them from its command-keys directory.
  for (const auto& k : nats_.command_signer().trusted) {
    responder_options.service.command_keys.push_back(signing::public_key_hex(k.public_key));
  }
  responder_ = std::make_unique<api::enroll::EnrollResponder>(
      std::move(responder_options), std::move(signer), *pool_, real_clock());
  responder_->start();
  deadline = std::chrono::steady_clock::now() + 15s;
  while (!responder_->ready()) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("responder");
    std::this_thread::sleep_for(20ms);
  }
}

EnrollStack::~EnrollStack() {
  responder_.reset();
  projector_.terminate();
}

std::string EnrollStack::new_code(std::chrono::milliseconds ttl) {
  return new_code(site_, ttl);
}

std::string EnrollStack::new_code(const SiteId& site, std::chrono::milliseconds ttl) {
  auto code = intents_->create_enrollment_code(site, ttl, "test");
  REQUIRE(code.has_value());
  wait_projected(code->stream_seq);
  return code->code;
}

SiteId EnrollStack::new_client_site(const std::string& client_name) {
  auto client = value_or_throw(intents_->create_client(client_name, "test"), "create client");
  wait_projected(client.stream_seq);
  auto site = value_or_throw(intents_->create_site(ClientId(client.id), "Main", "test"), "site");
  wait_projected(site.stream_seq);
  return SiteId(site.id);
}

void EnrollStack::wait_projected(StreamSeq seq) {
  auto done = read_model_->wait_for_projection(seq, 20s);
  if (!done || !*done) throw std::runtime_error("the projector did not apply the event in 20 s");
}

agent::enroll::EnrollOptions EnrollStack::options(const std::string& code,
                                                  const fs::path& state_dir) const {
  return {.server = nats_.url(),
          .code = code,
          .state_dir = state_dir,
          .enroll_creds = nats_.identity().enroll_creds(),
          .ca_file = nats_.tls().ca_file,
          .timeout = 15s};
}

agent::enroll::MachineFacts machine(int n) {
  return {.hostname = fmt::format("host-{}", n),
          .machine_id = fmt::format("{:032x}", 0xabc000 + n),
          .dmi_serial = fmt::format("SERIAL-{}", n),
          .macs = {fmt::format("52:54:00:00:00:{:02x}", n)}};
}

std::string error_of(const Result<agent::enroll::EnrollOutcome>& r) {
  return r ? std::string("enrolled") : r.error().message;
}

std::int64_t count(pqxx::connection& db, const std::string& sql) {
  pqxx::read_transaction tx(db);
  return tx.exec1(sql)[0].as<std::int64_t>();
}

std::string creds_seed(const fs::path& creds) {
  auto text = files::read_all(creds);
  REQUIRE(text.has_value());
  auto block = text->find("BEGIN USER NKEY SEED");
  REQUIRE(block != std::string::npos);
  auto at = text->find("SU", block);
  REQUIRE(at != std::string::npos);
  return text->substr(at, 58);
}

Status publish_as_agent(const std::string& url, const fs::path& state_dir, const AgentId& id) {
  nats::ConnectOptions opts{.url = url,
                            .creds_file = (state_dir / "agent.creds").string(),
                            .inbox_prefix = "_INBOX." + id.str(),
                            .tls_ca_file = local::agent_nats_ca(state_dir, ""),
                            .max_reconnect = 0};
  auto conn = nats::Connection::connect(opts);
  if (!conn) return std::unexpected(conn.error());
  auto js = nats::JetStream::create(**conn, {});
  if (!js) return std::unexpected(js.error());
  codec::AgentEventHeader h{EventId::generate(real_clock()), id, AgentSeq{1}, real_clock().now()};
  auto event = codec::build_heartbeat(h, {"test", 1, 0, 0});
  auto ack = (*js)->publish(codec::agent_event_subject(id, schema::Payload::Heartbeat), event,
                            codec::agent_msg_id(id, AgentSeq{1}), 5s);
  if (!ack) return std::unexpected(ack.error());
  return {};
}

}  // namespace rmm::test
