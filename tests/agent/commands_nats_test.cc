// Commands through a real nats-server: the agent's own durable consumer, pulled with core NATS
// under the agent's credential; commands published while the agent is away; redeliveries; and the
// real rmm-agent killed with SIGKILL while a command runs.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "admin/identity.h"
#include "admin/streams.h"
#include "agent/commands/command_runner.h"
#include "common/files.h"
#include "common/nats_jetstream.h"
#include "tests/agent/commands_test_util.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
using schema::OutputStream;
using schema::Payload;
namespace fs = std::filesystem;

namespace {

struct Services {
  explicit Services(const NatsServerFixture& server) : key(server.command_signer().key) {
    auto c = broker::connect_with_creds(server.url(), server.services_creds());
    REQUIRE(c.has_value());
    nc = *c;
  }
  ~Services() { natsConnection_Destroy(nc); }
  natsConnection* nc = nullptr;
  signing::SigningKey key;  // the installation's command key
};

std::unique_ptr<nats::Connection> connect_agent(const NatsServerFixture& server,
                                                const AgentId& id) {
  nats::ConnectOptions o;
  o.url = server.url();
  o.creds_file = server.mint_agent(id).string();
  o.inbox_prefix = broker::agent_inbox_prefix(id);
  o.name = "test-agent";
  auto c = nats::Connection::connect(o);
  REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().message));
  return std::move(*c);
}

// Pending and unacked messages of the agent's consumer.
std::int64_t consumer_backlog(natsConnection* services, const AgentId& id) {
  auto info =
      broker::js_api_request(services, "$JS.API.CONSUMER.INFO.RMM_COMMANDS." + id.str(), "", 5s);
  REQUIRE(info.has_value());
  return info->at("num_pending").to_number<std::int64_t>() +
         info->at("num_ack_pending").to_number<std::int64_t>();
}

// Every command event of `agent` stored in RMM_EVENTS, in stream order (a fresh consumer each
// call), once `done` holds or `limit` passes.
std::vector<CommandEvent> stream_command_events(
    const NatsServerFixture& server, const AgentId& agent, std::chrono::seconds limit,
    const std::function<bool(const std::vector<CommandEvent>&)>& done) {
  static std::atomic<int> readers{0};
  nats::ConnectOptions o;
  o.url = server.url();
  o.creds_file = server.services_creds().string();
  auto conn = nats::Connection::connect(o);
  REQUIRE(conn.has_value());
  auto js = nats::JetStream::create(**conn, {});
  REQUIRE(js.has_value());
  std::vector<CommandEvent> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    out.clear();
    nats::PullConsumerSettings cs;
    cs.stream = "RMM_EVENTS";
    cs.durable = "cmd_reader_" + std::to_string(::getpid()) + "_" + std::to_string(readers++);
    cs.filter_subject = "rmm.p.*.evt." + agent.str() + ".*";
    auto sub = (*js)->pull_subscribe(cs);
    REQUIRE(sub.has_value());
    while (true) {
      auto msgs = (*sub)->fetch(1000, 300ms);
      REQUIRE(msgs.has_value());
      if (msgs->empty()) break;
      for (auto& m : *msgs) {
        if (auto e = decode_command_event(m.data())) out.push_back(std::move(*e));
        (void)m.ack();
      }
    }
    if (done(out) || std::chrono::steady_clock::now() >= deadline) return out;
    std::this_thread::sleep_for(200ms);
  }
}

bool has(const std::vector<CommandEvent>& events, const CommandId& id, Payload type) {
  for (const auto& e : events) {
    if (e.command == id && e.type == type) return true;
  }
  return false;
}

std::size_t count(const std::vector<CommandEvent>& events, const CommandId& id, Payload type) {
  std::size_t n = 0;
  for (const auto& e : events) n += e.command == id && e.type == type ? 1 : 0;
  return n;
}

// Whether a process of group `pgid` other than a zombie exists (/proc/<pid>/stat: state, parent
// and group follow the last ')' of the command name).
bool group_has_live_member(pid_t pgid) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto stat = files::read_all(entry.path() / "stat");
    if (!stat) continue;
    auto close = stat->rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat->substr(close + 1));
    char state = '?';
    long parent = 0, group = 0;
    if (fields >> state >> parent >> group && group == pgid && state != 'Z' && state != 'X') {
      return true;
    }
  }
  return false;
}

// A state directory for the real agent `id`: its minted credential, its id, the command keys.
fs::path agent_state(NatsServerFixture& server, const fs::path& state, const AgentId& id) {
  fs::create_directories(state);
  fs::copy_file(server.mint_agent(id), state / "agent.creds");
  REQUIRE(files::write_atomic(state / "agent_id", id.str() + "\n").has_value());
  server.write_agent_command_keys(state);
  return state;
}

}  // namespace

TEST_CASE("commands published while the agent is away run once, in order, when it connects") {
  NatsServerFixture server;
  Services services(server);
  TempDir dir("cmd-nats");
  const AgentId id = AgentId::generate(real_clock());
  auto conn = connect_agent(server, id);  // also creates the agent's consumer

  std::vector<codec::CommandInfo> cmds;
  for (int i = 0; i < 3; ++i) cmds.push_back(shell_command("echo run-" + std::to_string(i)));
  auto dup = cmds[1];  // published twice: the second delivery is a known id
  for (const auto& c : cmds) REQUIRE(publish_command(services.nc, id, c, services.key).has_value());
  REQUIRE(publish_command(services.nc, id, dup, services.key).has_value());
  CHECK(consumer_backlog(services.nc, id) == 4);

  auto box = agent::Outbox::open(dir / "outbox", {}, real_clock());
  REQUIRE(box.has_value());
  agent::CommandRunnerOptions options;
  options.state_dir = dir.path();
  options.concurrency = 1;
  options.command_keys = server.command_signer().trusted;
  auto runner = agent::CommandRunner::create(**box, conn.get(), id, options);
  REQUIRE(runner.has_value());
  REQUIRE((*runner)->start().has_value());
  for (const auto& c : cmds) {
    auto ev = wait_terminal(**box, c.id, 15s);
    REQUIRE_FALSE(ev.empty());
    CHECK(ev.back().type == Payload::CommandCompleted);
    CHECK(output_of(ev, OutputStream::Stdout) == "run-" + std::to_string(&c - cmds.data()) + "\n");
    CHECK(count(ev, c.id, Payload::CommandStarted) == 1);
  }
  // Received in the order they were published.
  std::vector<CommandId> order;
  for (const auto& e : outbox_command_events(**box)) {
    if (e.type == Payload::CommandReceived) order.push_back(e.command);
  }
  REQUIRE(order.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(order[i] == cmds[i].id);
  for (int i = 0; i < 50 && consumer_backlog(services.nc, id) != 0; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  CHECK(consumer_backlog(services.nc, id) == 0);  // every delivery was acked
  CHECK((*runner)->stats().duplicates == 1);
  CHECK(conn->async_error_count() == 0);  // nothing the agent did was denied

  // A command published while it runs arrives within one pull.
  auto live = shell_command("echo live");
  REQUIRE(publish_command(services.nc, id, live, services.key).has_value());
  auto ev = wait_terminal(**box, live.id, 15s);
  REQUIRE_FALSE(ev.empty());
  CHECK(ev.back().type == Payload::CommandCompleted);
  (*runner)->stop();
}

TEST_CASE("a command the SIGKILLed agent was running is killed before it is reported interrupted") {
  NatsServerFixture server;
  Services services(server);
  TempDir dir("cmd-kill");
  const AgentId id = AgentId::generate(real_clock());
  const fs::path state = agent_state(server, dir / "agent", id);
  auto start_agent = [&](const char* log) {
    return Process::start({std::string(RMM_BIN_DIR) + "/rmm-agent",
                           {"--state-dir", state.string(), "--nats-url", server.url()},
                           {},
                           dir / log});
  };

  constexpr int kSleep = 8;
  const fs::path direct_marker = dir / "direct.marker";
  const fs::path background_marker = dir / "background.marker";
  auto quick = shell_command("echo before");
  // The shell itself would write the marker once the sleep ends...
  auto direct = shell_command(
      fmt::format("echo started; sleep {}; echo done >> '{}'", kSleep, direct_marker.string()));
  // ...or a background subshell does, which outlives the shell (same process group).
  auto background = shell_command(fmt::format("(sleep {}; echo done >> '{}') & echo started; wait",
                                              kSleep, background_marker.string()));
  for (const auto* c : {&quick, &direct, &background}) {
    REQUIRE(publish_command(services.nc, id, *c, services.key).has_value());
  }
  Process agent = start_agent("agent-1.log");
  auto started_both = [&](const std::vector<CommandEvent>& ev) {
    return output_of(events_of(ev, direct.id), OutputStream::Stdout) == "started\n" &&
           output_of(events_of(ev, background.id), OutputStream::Stdout) == "started\n";
  };
  auto events = stream_command_events(server, id, 30s, [&](const auto& ev) {
    return has(ev, quick.id, Payload::CommandCompleted) && started_both(ev);
  });
  REQUIRE(started_both(events));
  // Both sleeps started before this point: past it, a surviving command has written its marker.
  const auto markers_due = std::chrono::steady_clock::now() + std::chrono::seconds(kSleep + 3);
  std::vector<pid_t> groups;
  for (const auto& e : events) {
    if (e.type == Payload::CommandStarted && (e.command == direct.id || e.command == background.id))
      groups.push_back(static_cast<pid_t>(e.pid));
  }
  REQUIRE(groups.size() == 2);
  agent.kill9();

  Process again = start_agent("agent-2.log");
  events = stream_command_events(server, id, 30s, [&](const auto& ev) {
    return has(ev, direct.id, Payload::CommandInterrupted) &&
           has(ev, background.id, Payload::CommandInterrupted);
  });
  if (!has(events, direct.id, Payload::CommandInterrupted) ||
      !has(events, background.id, Payload::CommandInterrupted)) {
    MESSAGE("restarted agent's log:\n", files::read_all(dir / "agent-2.log").value_or("(none)"));
  }
  CHECK(has(events, direct.id, Payload::CommandInterrupted));
  CHECK(has(events, background.id, Payload::CommandInterrupted));
  // Reported interrupted only when nothing of it runs any more.
  for (pid_t g : groups) CHECK_MESSAGE(!group_has_live_member(g), "process group " << g);
  std::this_thread::sleep_until(markers_due);
  CHECK_MESSAGE(!fs::exists(direct_marker), "the interrupted shell finished its script");
  CHECK_MESSAGE(!fs::exists(background_marker), "the interrupted background job finished");
  for (const auto* c : {&direct, &background}) {
    CHECK(count(events, c->id, Payload::CommandStarted) == 1);  // not run again
    CHECK(count(events, c->id, Payload::CommandCompleted) == 0);
    // The shell died with the agent; its sleep (or background job) was killed by the restart.
    for (const auto& e : events_of(events, c->id)) {
      if (e.type == Payload::CommandInterrupted) {
        CHECK_MESSAGE(e.reason.find("were still running and were killed") != std::string::npos,
                      e.reason);
      }
    }
  }
  CHECK(count(events, quick.id, Payload::CommandStarted) == 1);
  CHECK(count(events, quick.id, Payload::CommandCompleted) == 1);
  CHECK(again.terminate() == 0);
  for (pid_t g : groups) ::kill(-g, SIGKILL);  // whatever a failed run left behind
}

TEST_CASE("the real agent refuses unsigned, mis-signed and other agents' commands, runs none") {
  NatsServerFixture server;
  Services services(server);
  TempDir dir("cmd-refuse");
  const AgentId id = AgentId::generate(real_clock());
  const fs::path state = agent_state(server, dir / "agent", id);

  // Each would leave a marker if it ran. Published with the services credential, which may
  // publish on every agent's command subject: only the signature tells the agent who sent them.
  auto marking = [&](const std::string& name) {
    auto c = shell_command("echo ran > '" + (dir / name).string() + "'");
    c.agent = id;
    c.issued_at = real_clock().now();
    c.expires_at = c.issued_at + std::chrono::nanoseconds(std::chrono::hours(1)).count();
    return c;
  };
  auto unsigned_cmd = marking("unsigned");
  auto forged = marking("forged");
  auto elsewhere = marking("elsewhere");
  elsewhere.agent = AgentId::generate(real_clock());
  auto valid = marking("valid");
  REQUIRE(publish_command_bytes(services.nc, id, codec::build_command(unsigned_cmd)).has_value());
  REQUIRE(publish_command_bytes(services.nc, id,
                                codec::build_signed_command(forged, signing::generate_key()))
              .has_value());
  REQUIRE(
      publish_command_bytes(services.nc, id, codec::build_signed_command(elsewhere, services.key))
          .has_value());
  REQUIRE(publish_command(services.nc, id, valid, services.key).has_value());

  Process agent = Process::start({std::string(RMM_BIN_DIR) + "/rmm-agent",
                                  {"--state-dir", state.string(), "--nats-url", server.url()},
                                  {},
                                  dir / "agent.log"});
  auto events = stream_command_events(server, id, 30s, [&](const auto& ev) {
    return has(ev, valid.id, Payload::CommandCompleted) &&
           has(ev, unsigned_cmd.id, Payload::CommandRejected) &&
           has(ev, forged.id, Payload::CommandRejected) &&
           has(ev, elsewhere.id, Payload::CommandRejected);
  });
  auto reason = [&](const CommandId& c) {
    for (const auto& e : events_of(events, c)) {
      if (e.type == Payload::CommandRejected) return e.reason;
    }
    return std::string("(no CommandRejected)");
  };
  CHECK(reason(unsigned_cmd.id).find("unsigned") != std::string::npos);
  CHECK(reason(forged.id).find("does not trust") != std::string::npos);
  CHECK(reason(elsewhere.id).find("for agent " + elsewhere.agent.str()) != std::string::npos);
  for (const auto* c : {&unsigned_cmd, &forged, &elsewhere}) {
    CHECK(events_of(events, c->id).size() == 1);  // refused before it was even received
  }
  CHECK(has(events, valid.id, Payload::CommandCompleted));
  CHECK(fs::exists(dir / "valid"));
  CHECK_FALSE(fs::exists(dir / "unsigned"));
  CHECK_FALSE(fs::exists(dir / "forged"));
  CHECK_FALSE(fs::exists(dir / "elsewhere"));
  // Nothing refused stays pending on the consumer.
  for (int i = 0; i < 50 && consumer_backlog(services.nc, id) != 0; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  CHECK(consumer_backlog(services.nc, id) == 0);
  CHECK(agent.terminate() == 0);
}

// Issue 16, item 4: agent A asks for its own next command with the reply subject rmm.cmd.<V>.
// nats-server 2.9.10 publishes its answer ("404 No Messages") on that subject, where RMM_COMMANDS
// stores it for V; so does the publish ack of an event A sends with that reply. V must neither
// run them nor stall on them.
TEST_CASE("replies another agent steers onto this agent's command subject never block it") {
  NatsServerFixture server;
  Services services(server);
  TempDir dir("cmd-steer");
  const AgentId victim = AgentId::generate(real_clock());
  auto conn = connect_agent(server, victim);  // also creates V's consumer
  const AgentId attacker = AgentId::generate(real_clock());
  auto a = connect_agent(server, attacker);

  const std::string next = "$JS.API.CONSUMER.MSG.NEXT.RMM_COMMANDS." + attacker.str();
  const std::string victim_subject = codec::agent_command_subject(victim);
  // A publish ack (JSON) of one of A's own events.
  const std::string event = "rmm.evt." + attacker.str() + ".heartbeat";
  REQUIRE(natsConnection_PublishRequestString(a->raw(), event.c_str(), victim_subject.c_str(),
                                              "x") == NATS_OK);
  // More "no messages" answers than V's consumer lets it hold unacknowledged (max_ack_pending).
  constexpr int kSteered = 100;
  for (int i = 0; i < kSteered; ++i) {
    REQUIRE(natsConnection_PublishRequestString(a->raw(), next.c_str(), victim_subject.c_str(),
                                                R"({"batch":1,"no_wait":true})") == NATS_OK);
  }
  REQUIRE(natsConnection_FlushTimeout(a->raw(), 5000) == NATS_OK);
  for (int i = 0; i < 50 && consumer_backlog(services.nc, victim) < kSteered + 1; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  // The broker did store them: the credential let A do all of it.
  REQUIRE(consumer_backlog(services.nc, victim) == kSteered + 1);
  CHECK(a->async_error_count() == 0);

  // V's real command, published after them, still runs.
  auto box = agent::Outbox::open(dir / "outbox", {}, real_clock());
  REQUIRE(box.has_value());
  agent::CommandRunnerOptions options;
  options.state_dir = dir.path();
  options.command_keys = server.command_signer().trusted;
  auto runner = agent::CommandRunner::create(**box, conn.get(), victim, options);
  REQUIRE(runner.has_value());
  REQUIRE((*runner)->start().has_value());
  auto real = shell_command("echo real");
  REQUIRE(publish_command(services.nc, victim, real, services.key).has_value());
  auto ev = wait_terminal(**box, real.id, 30s);
  REQUIRE_FALSE(ev.empty());
  CHECK(ev.back().type == Payload::CommandCompleted);
  CHECK(output_of(ev, OutputStream::Stdout) == "real\n");
  // Everything steered was terminated and nothing is left pending.
  for (int i = 0; i < 50 && consumer_backlog(services.nc, victim) != 0; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  CHECK(consumer_backlog(services.nc, victim) == 0);
  CHECK((*runner)->stats().unreadable == kSteered + 1);
  CHECK((*runner)->stats().accepted == 1);
  (*runner)->stop();
}
