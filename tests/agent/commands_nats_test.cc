// Commands through a real nats-server: the agent's own durable consumer, pulled with core NATS
// under the agent's credential; commands published while the agent is away; redeliveries; and the
// real rmm-agent killed with SIGKILL while a command runs.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
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
  explicit Services(const NatsServerFixture& server) {
    auto c = broker::connect_with_creds(server.url(), server.services_creds());
    REQUIRE(c.has_value());
    nc = *c;
  }
  ~Services() { natsConnection_Destroy(nc); }
  natsConnection* nc = nullptr;
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
  for (const auto& c : cmds) REQUIRE(publish_command(services.nc, id, c).has_value());
  REQUIRE(publish_command(services.nc, id, dup).has_value());
  CHECK(consumer_backlog(services.nc, id) == 4);

  auto box = agent::Outbox::open(dir / "outbox", {}, real_clock());
  REQUIRE(box.has_value());
  agent::CommandRunnerOptions options;
  options.state_dir = dir.path();
  options.concurrency = 1;
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
  REQUIRE(publish_command(services.nc, id, live).has_value());
  auto ev = wait_terminal(**box, live.id, 15s);
  REQUIRE_FALSE(ev.empty());
  CHECK(ev.back().type == Payload::CommandCompleted);
  (*runner)->stop();
}

TEST_CASE("the real agent reports a command it was running when SIGKILLed as interrupted") {
  NatsServerFixture server;
  Services services(server);
  TempDir dir("cmd-kill");
  const AgentId id = AgentId::generate(real_clock());
  fs::path state = dir / "agent";
  fs::create_directories(state);
  fs::copy_file(server.mint_agent(id), state / "agent.creds");
  REQUIRE(files::write_atomic(state / "agent_id", id.str() + "\n").has_value());
  auto start_agent = [&](const char* log) {
    return Process::start({std::string(RMM_BIN_DIR) + "/rmm-agent",
                           {"--state-dir", state.string(), "--nats-url", server.url()},
                           {},
                           dir / log});
  };

  auto quick = shell_command("echo before");
  auto slow = shell_command("echo started; sleep 120");
  REQUIRE(publish_command(services.nc, id, quick).has_value());
  REQUIRE(publish_command(services.nc, id, slow).has_value());
  Process agent = start_agent("agent-1.log");
  auto events = stream_command_events(server, id, 30s, [&](const auto& ev) {
    return has(ev, quick.id, Payload::CommandCompleted) &&
           has(ev, slow.id, Payload::CommandStarted) &&
           output_of(events_of(ev, slow.id), OutputStream::Stdout) == "started\n";
  });
  REQUIRE(has(events, slow.id, Payload::CommandStarted));
  pid_t command_pgid = 0;
  for (const auto& e : events) {
    if (e.command == slow.id && e.type == Payload::CommandStarted) command_pgid = e.pid;
  }
  REQUIRE(command_pgid > 0);
  agent.kill9();
  // The orphaned command keeps running (on a real host systemd's cgroup stop would end it).
  CHECK(::kill(-command_pgid, 0) == 0);
  ::kill(-command_pgid, SIGKILL);

  Process again = start_agent("agent-2.log");
  events = stream_command_events(server, id, 30s, [&](const auto& ev) {
    return has(ev, slow.id, Payload::CommandInterrupted);
  });
  if (!has(events, slow.id, Payload::CommandInterrupted)) {
    MESSAGE("restarted agent's log:\n", files::read_all(dir / "agent-2.log").value_or("(none)"));
  }
  CHECK(has(events, slow.id, Payload::CommandInterrupted));
  CHECK(count(events, slow.id, Payload::CommandStarted) == 1);  // not run again
  CHECK(count(events, slow.id, Payload::CommandCompleted) == 0);
  CHECK(count(events, quick.id, Payload::CommandStarted) == 1);
  CHECK(count(events, quick.id, Payload::CommandCompleted) == 1);
  CHECK(again.terminate() == 0);
}
