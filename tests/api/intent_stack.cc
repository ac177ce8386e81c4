#include "tests/api/intent_stack.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <boost/json.hpp>
#include <filesystem>
#include <pqxx/nontransaction>
#include <thread>

#include "admin/nkeys.h"
#include "admin/tenancy/enrollment_codes.h"
#include "api/auth/authenticator.h"
#include "api/auth/passwords.h"
#include "common/command_signing.h"
#include "common/pg.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/projector_process.h"

namespace rmm::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

}  // namespace

IntentStack& shared_stack() {
  static IntentStack stack;
  return stack;
}

boost::json::object json_body(const HttpResponse& r) {
  auto v = boost::json::parse(r.body);
  if (!v.is_object()) throw std::runtime_error("not a JSON object: " + r.body);
  return v.as_object();
}

IntentStack::IntentStack(NatsServerOptions nats) : nats_(std::move(nats)) {
  auto& pg = PostgresFixture::shared();
  db_url_ = pg.create_database(pg.unique_name("intents"));
  pg_ = value_or_throw(pg::connect(db_url_), "pg connect");
  projector_ = start_projector(RMM_BIN_DIR, nats_, db_url_, *pg_, dir_ / "projector.log");
  nats::ConnectOptions opts{.url = nats_.url(),
                            .creds_file = nats_.services_creds().string(),
                            .tls_ca_file = nats_.tls().ca_file};
  services_ = value_or_throw(nats::Connection::connect(opts), "services connect");
  js_ = value_or_throw(nats::JetStream::create(*services_, {}), "jetstream");
  publisher_ = std::make_unique<tenancy::ControlPublisher>(*js_, "test", real_clock());
  tenancy::Intents intents(*publisher_, nullptr, real_clock());
  auto a = value_or_throw(intents.create_client("Client A", "test"), "client A");
  auto b = value_or_throw(intents.create_client("Client B", "test"), "client B");
  client_a = ClientId(a.id);
  client_b = ClientId(b.id);
  auto sa = value_or_throw(intents.create_site(client_a, "Site A", "test"), "site A");
  auto sb = value_or_throw(intents.create_site(client_b, "Site B", "test"), "site B");
  site_a = SiteId(sa.id);
  site_b = SiteId(sb.id);
  wait_projected(sb.stream_seq.value);
  agent_a = enroll_agent(site_a, "host-a");
  agent_b = enroll_agent(site_b, "host-b");

  // Agent revocation looks for the rendered config and the server's pid under the home.
  fs::create_directories(nats_.home() / "run");
  {
    std::FILE* f = std::fopen((nats_.home() / "run" / "nats.pid").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fprintf(f, "%d\n", static_cast<int>(nats_.pid()));
    std::fclose(f);
  }

  app_ = start_api({});
}

api::ApiConfig IntentStack::api_config() const {
  api::ApiConfig c;
  c.listen_port = 0;
  c.pg_url = db_url_;
  c.pg_pool_size = 4;
  c.nats_url = nats_.url();
  // The API's own least-privilege credential, as `tools/rmm up` runs it.
  c.nats_creds = nats_.identity().api_creds().string();
  c.nats_tls = nats_.tls();
  c.web_dir = fs::path(RMM_SOURCE_DIR) / "api/web/dist";
  c.request_timeout = 15s;
  c.shutdown_grace = 2s;
  c.enroll_home = nats_.home().string();
  c.command_keys = nats_.command_keys_dir().string();
  return c;
}

std::unique_ptr<api::App> IntentStack::start_api(
    const std::function<void(api::ApiConfig&)>& tweak) {
  api::ApiConfig c = api_config();
  if (tweak) tweak(c);
  auto app = value_or_throw(api::App::create(c), "app");
  auto started = app->start();
  if (!started) throw std::runtime_error(started.error().message);
  return app;
}

IntentStack::~IntentStack() {
  if (app_) app_->stop();
  app_.reset();
  projector_.terminate();
}

std::uint64_t IntentStack::publish(schema::Payload type,
                                   const tenancy::ControlPublisher::Build& build) {
  return value_or_throw(publisher_->publish(type, build), "publish").seq.value;
}

void IntentStack::wait_projected(std::uint64_t seq) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (core_checkpoint(*pg_) < seq) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(fmt::format("the projector did not reach {} in 20 s", seq));
    }
    std::this_thread::sleep_for(20ms);
  }
}

AgentId IntentStack::enroll_agent(const SiteId& site, const std::string& hostname) {
  auto agent = AgentId::generate(real_clock());
  auto key = broker::KeyPair::generate(broker::KeyRole::kUser);
  codec::AgentEnrolledInfo info{agent,
                                site,
                                key.public_key(),
                                tenancy::sha256_hex(hostname),
                                EnrollmentCodeId::generate(real_clock()),
                                hostname,
                                false};
  auto seq = publish(schema::Payload::AgentEnrolled,
                     [&](const auto& h) { return codec::build_agent_enrolled(h, info); });
  wait_projected(seq);
  return agent;
}

void IntentStack::reenroll_agent(const AgentId& agent, const SiteId& site,
                                 const std::string& hostname) {
  auto key = broker::KeyPair::generate(broker::KeyRole::kUser);
  codec::AgentEnrolledInfo info{agent,
                                site,
                                key.public_key(),
                                tenancy::sha256_hex(hostname),
                                EnrollmentCodeId::generate(real_clock()),
                                hostname,
                                true};
  wait_projected(publish(schema::Payload::AgentEnrolled,
                         [&](const auto& h) { return codec::build_agent_enrolled(h, info); }));
}

TestUser IntentStack::user(schema::UserRole role, std::vector<codec::ScopeRef> scopes) {
  TestUser u{UserId::generate(real_clock()), api::new_session_token()};
  std::string name = fmt::format("user{}", ++user_n_);
  codec::UserCreatedInfo info{u.id, name, name, role, std::move(scopes), {"test", ""}};
  auto seq = publish(schema::Payload::UserCreated,
                     [&](const auto& h) { return codec::build_user_created(h, info); });
  wait_projected(seq);
  pqxx::nontransaction tx(*pg_);
  tx.exec_params(
      "INSERT INTO auth.credentials (user_id, username, password_hash) VALUES ($1::uuid, $2, 'x')",
      u.id.str(), name);
  tx.exec_params(
      "INSERT INTO auth.sessions (token_hash, user_id, expires_at) "
      "VALUES (decode($1, 'hex'), $2::uuid, now() + interval '1 hour')",
      api::Authenticator::token_hash_hex(u.token), u.id.str());
  return u;
}

std::string IntentStack::new_session(const UserId& user) {
  std::string token = api::new_session_token();
  pqxx::nontransaction tx(*pg_);
  tx.exec_params(
      "INSERT INTO auth.sessions (token_hash, user_id, expires_at) "
      "VALUES (decode($1, 'hex'), $2::uuid, now() + interval '1 hour')",
      api::Authenticator::token_hash_hex(token), user.str());
  return token;
}

HttpResponse IntentStack::call(const std::string& method, const std::string& target,
                               const std::string& body, const TestUser& user) {
  std::map<std::string, std::string> headers{{"Authorization", "Bearer " + user.token}};
  if (!body.empty()) headers["Content-Type"] = "application/json";
  return http_request(port(), method, target, body, headers, 15s);
}

std::pair<std::string, std::vector<std::uint8_t>> IntentStack::stored_event(std::uint64_t seq) {
  natsMsg* msg = nullptr;
  jsErrCode err{};
  natsStatus s = js_GetMsg(&msg, js_->raw(), "RMM_EVENTS", seq, nullptr, &err);
  if (s != NATS_OK)
    throw std::runtime_error(fmt::format("js_GetMsg {}: {}", seq, natsStatus_GetText(s)));
  const auto* data = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg));
  std::pair<std::string, std::vector<std::uint8_t>> out{natsMsg_GetSubject(msg),
                                                        {data, data + natsMsg_GetDataLength(msg)}};
  natsMsg_Destroy(msg);
  return out;
}

std::optional<std::vector<std::uint8_t>> IntentStack::last_command(const AgentId& agent) {
  natsMsg* msg = nullptr;
  jsErrCode err{};
  std::string subject = "rmm.cmd." + agent.str();
  natsStatus s = js_GetLastMsg(&msg, js_->raw(), "RMM_COMMANDS", subject.c_str(), nullptr, &err);
  if (s != NATS_OK) return std::nullopt;
  const auto* data = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg));
  std::vector<std::uint8_t> bytes(data, data + natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
  // As the agent opens it: signed by the installation's command key, for this agent.
  auto opened = codec::open_command(bytes, nats_.command_signer().trusted, agent);
  if (opened.refusal) throw std::runtime_error("the last command is refused: " + opened.reason);
  return opened.envelope;
}

}  // namespace rmm::test
