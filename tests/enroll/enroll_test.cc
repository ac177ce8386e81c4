// Enrollment end to end: a real nats-server, PostgreSQL, rmm-projector and the responder as
// rmm-api runs it; the agent side through agent/enroll (and once through the rmm-agent binary).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <pqxx/transaction>
#include <thread>

#include "admin/jwt.h"
#include "admin/nkeys.h"
#include "admin/revocations.h"
#include "admin/tenancy/enrollment_codes.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "common/signing.h"
#include "tests/enroll/enroll_stack.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/fixtures/tls_certs.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {}  // namespace

TEST_CASE("enrollment by site code") {
  EnrollStack stack;
  fs::path state = stack.dir() / "agent-a";

  SUBCASE("a valid code enrolls the agent with its own key, and it can publish its events") {
    auto out = agent::enroll::enroll(stack.options(stack.new_code(), state), machine(1));
    REQUIRE_MESSAGE(out.has_value(), error_of(out));
    CHECK_FALSE(out->reenrolled);
    CHECK(out->site_id == stack.site().str());

    auto id_text = files::read_all(state / "agent_id");
    REQUIRE(id_text.has_value());
    CHECK(*id_text == out->agent.str() + "\n");
    struct stat st {};
    REQUIRE(::stat((state / "agent.creds").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(state.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    // The credential's subject is the agent's own key, whose seed never left the state dir.
    auto seed = broker::KeyPair::from_seed(creds_seed(state / "agent.creds"));
    REQUIRE(seed.has_value());
    auto creds = files::read_all(state / "agent.creds");
    auto jwt_start = creds->find("eyJ");
    auto jwt = broker::decode_and_verify_jwt(
        creds->substr(jwt_start, creds->find('\n', jwt_start) - jwt_start));
    REQUIRE(jwt.has_value());
    CHECK(jwt->subject == seed->public_key());
    CHECK(jwt->issuer == stack.nats().identity().agent_signer.public_key());

    auto row = stack.read_model().find_agent(out->agent);
    REQUIRE(row.has_value());
    REQUIRE(row->has_value());
    CHECK((*row)->site == stack.site());
    CHECK((*row)->fingerprint_hash.size() == 64);
    auto keys = stack.read_model().agent_public_keys(out->agent);
    REQUIRE(keys.has_value());
    CHECK(*keys == std::vector<std::string>{seed->public_key()});

    auto published = publish_as_agent(stack.nats().url(), state, out->agent);
    CHECK_MESSAGE(published.has_value(), (published ? "" : published.error().message));
  }

  SUBCASE("a revoked code is refused with the reason") {
    auto code = stack.intents().create_enrollment_code(stack.site(), 1h, "test");
    REQUIRE(code.has_value());
    stack.wait_projected(code->stream_seq);
    auto revoked = stack.intents().revoke_enrollment_code(code->id, "test");
    REQUIRE(revoked.has_value());
    stack.wait_projected(revoked->stream_seq);
    auto out = agent::enroll::enroll(stack.options(code->code, state), machine(1));
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == Error::Code::kInvalidInput);
    CHECK(out.error().message.find("code_revoked") != std::string::npos);
    CHECK_FALSE(fs::exists(state / "agent.creds"));
  }

  SUBCASE("an expired code is refused") {
    auto code = stack.new_code(-1min);
    auto out = agent::enroll::enroll(stack.options(code, state), machine(1));
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().message.find("code_expired") != std::string::npos);
  }

  SUBCASE("an unknown code is refused") {
    for (std::string code : {tenancy::generate_enrollment_code(), std::string("nope")}) {
      auto out = agent::enroll::enroll(stack.options(code, state), machine(1));
      REQUIRE_FALSE(out.has_value());
      CHECK(out.error().message.find("unknown_code") != std::string::npos);
    }
  }

  SUBCASE("re-enrolling the same machine with its key keeps its identity") {
    auto code = stack.new_code();
    auto first = agent::enroll::enroll(stack.options(code, state), machine(1));
    REQUIRE_MESSAGE(first.has_value(), error_of(first));
    auto first_seed = creds_seed(state / "agent.creds");
    auto again = agent::enroll::enroll(stack.options(code, state), machine(1));
    REQUIRE_MESSAGE(again.has_value(), error_of(again));
    CHECK(again->agent == first->agent);
    CHECK(again->reenrolled);
    CHECK(creds_seed(state / "agent.creds") != first_seed);  // a fresh key per enrollment
    CHECK(count(stack.db(), "SELECT count(*) FROM agent_keys WHERE agent_id = '" +
                                first->agent.str() + "' AND revoked_at IS NULL") == 1);

    // A reinstall (empty state dir) cannot prove the key: the fingerprint alone is no proof, so
    // it is a new identity and a clone suspicion of the old one.
    auto reinstall = agent::enroll::enroll(stack.options(code, stack.dir() / "fresh"), machine(1));
    REQUIRE_MESSAGE(reinstall.has_value(), error_of(reinstall));
    CHECK(reinstall->agent != first->agent);
    CHECK(count(stack.db(), "SELECT count(*) FROM clone_suspicions WHERE agent_id = '" +
                                first->agent.str() + "' AND new_agent_id = '" +
                                reinstall->agent.str() + "'") == 1);

    auto other = agent::enroll::enroll(stack.options(code, stack.dir() / "b"), machine(2));
    REQUIRE_MESSAGE(other.has_value(), error_of(other));
    CHECK(other->agent != first->agent);
    CHECK(count(stack.db(), "SELECT count(*) FROM clone_suspicions") == 1);
    CHECK(count(stack.db(), "SELECT count(*) FROM agent_keys WHERE agent_id = '" +
                                first->agent.str() + "'") == 2);
  }

  SUBCASE("a state directory copied to another machine is a suspected clone") {
    auto code = stack.new_code();
    auto original = agent::enroll::enroll(stack.options(code, state), machine(1));
    REQUIRE_MESSAGE(original.has_value(), error_of(original));
    fs::path copy = stack.dir() / "copy";
    fs::copy(state, copy, fs::copy_options::recursive);
    auto clone = agent::enroll::enroll(stack.options(code, copy), machine(2));
    REQUIRE_MESSAGE(clone.has_value(), error_of(clone));
    CHECK(clone->agent != original->agent);
    CHECK(clone->identity_changed);
    CHECK(count(stack.db(), "SELECT count(*) FROM clone_suspicions WHERE agent_id = '" +
                                original->agent.str() + "' AND new_agent_id = '" +
                                clone->agent.str() + "'") == 1);
    // The original keeps its identity and its credential.
    CHECK(publish_as_agent(stack.nats().url(), state, original->agent).has_value());
  }

  SUBCASE("a revoked agent's credential is refused") {
    auto out = agent::enroll::enroll(stack.options(stack.new_code(), state), machine(1));
    REQUIRE_MESSAGE(out.has_value(), error_of(out));
    REQUIRE(publish_as_agent(stack.nats().url(), state, out->agent).has_value());

    auto revoked = stack.intents().revoke_agent(out->agent, "test", "lost laptop");
    REQUIRE(revoked.has_value());
    CHECK(revoked->public_keys.size() == 1);
    auto st = broker::revoke_user_keys({.home = stack.nats().home(),
                                        .user_public_keys = revoked->public_keys,
                                        .at_unix_seconds = real_clock().now() / 1'000'000'000,
                                        .server_config = stack.nats().config_path(),
                                        .server_pid = stack.nats().pid()});
    REQUIRE_MESSAGE(st.has_value(), (st ? "" : st.error().message));
    stack.wait_projected(revoked->stream_seq);

    // The reload is asynchronous: poll (bounded) until the credential stops working.
    Status last;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
      last = publish_as_agent(stack.nats().url(), state, out->agent);
      if (!last) break;
      std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    CHECK_FALSE(last.has_value());
    auto row = stack.read_model().find_agent(out->agent);
    REQUIRE(row.has_value());
    REQUIRE(row->has_value());
    CHECK((*row)->revoked);

    // The same machine enrolling again is a new identity: a revoked one is never handed back.
    auto again = agent::enroll::enroll(stack.options(stack.new_code(), state), machine(1));
    REQUIRE_MESSAGE(again.has_value(), error_of(again));
    CHECK(again->agent != out->agent);
    CHECK(publish_as_agent(stack.nats().url(), state, again->agent).has_value());
  }
}

TEST_CASE("the enrollment credential can only ask to enroll") {
  NatsServerFixture nats;
  nats::ConnectOptions opts{.url = nats.url(),
                            .creds_file = nats.identity().enroll_creds().string(),
                            .inbox_prefix = "_INBOX_ENROLL",
                            .max_reconnect = 0};
  auto conn = nats::Connection::connect(opts);
  REQUIRE_MESSAGE(conn.has_value(), (conn ? "" : conn.error().message));
  auto& c = **conn;
  AgentId victim = AgentId::generate(real_clock());
  std::uint64_t errors = 0;
  auto expect_denied = [&](std::string_view what, auto action) {
    CAPTURE(what);
    action();
    REQUIRE(c.flush(2s).has_value());
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (c.async_error_count() == errors && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    CHECK(c.async_error_count() > errors);
    CHECK(c.last_async_error().find("Permissions Violation") != std::string::npos);
    errors = c.async_error_count();
  };
  std::vector<std::uint8_t> data{1, 2, 3};
  expect_denied("publish an agent event", [&] {
    (void)c.publish(codec::agent_event_subject(victim, schema::Payload::Heartbeat), data);
  });
  expect_denied("publish a control event",
                [&] { (void)c.publish("rmm.ctl.agent.agent_enrolled", data); });
  expect_denied("use the JetStream API",
                [&] { (void)c.publish("$JS.API.CONSUMER.MSG.NEXT.RMM_COMMANDS.x", data); });
  natsSubscription* sub = nullptr;
  expect_denied("read commands",
                [&] { (void)natsConnection_SubscribeSync(&sub, c.raw(), "rmm.cmd.>"); });
  natsSubscription_Destroy(sub);
  sub = nullptr;
  expect_denied("read other inboxes",
                [&] { (void)natsConnection_SubscribeSync(&sub, c.raw(), "_INBOX.>"); });
  natsSubscription_Destroy(sub);

  // What it may do: ask. Nobody answers here (no responder), which is "no responders", not a
  // permission error.
  auto reply = c.request(std::string(broker::kEnrollSubject), data, 500ms);
  CHECK_FALSE(reply.has_value());
  CHECK(c.async_error_count() == errors);
}

TEST_CASE("rmm-agent enroll over TLS: pins --ca-file, prints the id, then the agent reports") {
  // TLS on every hop: nats-server requires it, the projector and the responder pin its CA, and
  // so does the agent once enrolled with --ca-file.
  EnrollStack stack({.tls = true});
  const auto& tls = stack.nats().tls_files();
  fs::path state = stack.dir() / "agent-bin";
  auto run = [&](const std::string& code, const std::string& log, const fs::path& state_dir,
                 std::vector<std::string> extra) {
    std::vector<std::string> args = {"enroll",
                                     "--server",
                                     stack.nats().url(),
                                     "--code",
                                     code,
                                     "--state-dir",
                                     state_dir.string(),
                                     "--enroll-creds",
                                     stack.nats().identity().enroll_creds().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = Process::start({.program = std::string(RMM_BIN_DIR) + "/rmm-agent",
                             .args = args,
                             .log_file = stack.dir() / log});
    auto rc = p.wait(60s);
    auto text = files::read_all(stack.dir() / log);
    return std::pair{rc.value_or(-1), text.value_or("")};
  };
  // Without a CA, or with another one, nothing is sent: the cause is named.
  {
    auto [rc, out] = run(stack.new_code(), "plain.log", stack.dir() / "plain", {});
    CHECK(rc == 1);
    CHECK_MESSAGE(out.find("the server requires TLS, but no nats-ca is set") != std::string::npos,
                  out);
    TempDir other("other-ca");
    auto other_files = make_tls_files(other.path());
    auto [rc2, out2] = run(stack.new_code(), "wrong-ca.log", stack.dir() / "wrong-ca",
                           {"--ca-file", other_files.ca.string()});
    CHECK(rc2 == 1);
    CHECK_MESSAGE(out2.find("not signed by the pinned CA") != std::string::npos, out2);
    CHECK_FALSE(fs::exists(stack.dir() / "wrong-ca" / "ca.pem"));
    CHECK_FALSE(fs::exists(stack.dir() / "wrong-ca" / "agent_id"));
  }
  auto [rc, out] = run(stack.new_code(), "ok.log", state, {"--ca-file", tls.ca.string()});
  CHECK_MESSAGE(rc == 0, out);
  auto id = files::read_all(state / "agent_id");
  REQUIRE(id.has_value());
  CHECK(out.find(*id) != std::string::npos);  // printed on stdout
  // The CA is the agent's from now on: readable by all (it is public), written whole.
  CHECK(files::read_all(state / "ca.pem").value_or("a") == files::read_all(tls.ca).value_or("b"));
  struct stat st {};
  REQUIRE(::stat((state / "ca.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  // The reply's command keys are the ones the agent trusts from now on.
  auto trusted = files::read_all(state / "command_keys");
  REQUIRE(trusted.has_value());
  CHECK(*trusted == signing::format_trusted_keys(stack.nats().command_signer().trusted));

  // Re-enrolling needs no --ca-file: the state's ca.pem is pinned.
  auto [bad_rc, bad_out] = run(stack.new_code(-1min), "expired.log", state, {});
  CHECK(bad_rc == 1);
  CHECK_MESSAGE(bad_out.find("code_expired") != std::string::npos, bad_out);
  CHECK(files::read_all(state / "agent_id").value_or("") == *id);  // a refusal changes nothing

  // The agent itself, given no CA setting, pins <state>/ca.pem; its events arrive.
  auto agent_id = AgentId::parse(id->substr(0, id->find('\n')));
  REQUIRE(agent_id.has_value());
  auto agent = Process::start(
      {.program = std::string(RMM_BIN_DIR) + "/rmm-agent",
       .args = {"--state-dir", state.string(), "--nats-url", stack.nats().url(),
                "--heartbeat-interval", "1s", "--metrics-interval", "1h", "--updater="},
       .log_file = stack.dir() / "agent.log"});
  auto events = read_agent_events(stack.nats(), *agent_id, 2, 30s);
  CHECK_MESSAGE(events.size() >= 2, files::read_all(stack.dir() / "agent.log").value_or(""));
  CHECK(agent.terminate() == 0);
}
