// The command runner without a broker: commands go straight into accept(), lifecycle events are
// read back from the outbox. Real processes, real process groups.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "agent/commands/applied_config.h"
#include "agent/commands/command_keys.h"
#include "agent/commands/command_runner.h"
#include "tests/agent/commands_test_util.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
using agent::Disposition;
using schema::OutputStream;
using schema::Payload;

namespace {

agent::CommandRunnerOptions fast_options() {
  agent::CommandRunnerOptions o;
  o.output.kill_grace = 300ms;
  o.output.drain_after_exit = 300ms;
  o.boot_id = "boot-1";
  o.command_keys = test_trusted_keys();
  return o;
}

struct Harness {
  explicit Harness(agent::CommandRunnerOptions o = fast_options(), agent::CommandHooks h = {},
                   const Clock& c = real_clock())
      : options(std::move(o)), hooks(std::move(h)), clock(c) {
    options.state_dir = dir.path();
    auto box = agent::Outbox::open(dir / "outbox", {}, clock);
    REQUIRE(box.has_value());
    outbox = std::move(*box);
    start();
  }
  ~Harness() { stop(); }

  void start() {
    auto r = agent::CommandRunner::create(*outbox, nullptr, agent_id, options, hooks, clock);
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
    runner = std::move(*r);
    REQUIRE(runner->start().has_value());
  }
  void stop() {
    if (runner) runner->stop();
    runner.reset();
  }

  Disposition send(const codec::CommandInfo& c) { return send_bytes(signed_for(agent_id, c)); }
  Disposition send_bytes(const std::vector<std::uint8_t>& bytes) {
    return runner->accept(bytes, agent::Delivery{StreamSeq{++stream_seq}, 1});
  }
  std::vector<CommandEvent> run(const codec::CommandInfo& c,
                                std::chrono::milliseconds limit = 10s) {
    REQUIRE(send(c) == Disposition::kAck);
    return wait_terminal(*outbox, c.id, limit);
  }
  std::vector<CommandEvent> events(const CommandId& id) {
    return events_of(outbox_command_events(*outbox), id);
  }

  TempDir dir{"commands"};
  AgentId agent_id = AgentId::generate(real_clock());
  agent::CommandRunnerOptions options;
  agent::CommandHooks hooks;
  const Clock& clock;
  std::unique_ptr<agent::Outbox> outbox;
  std::unique_ptr<agent::CommandRunner> runner;
  std::uint64_t stream_seq = 0;
};

std::vector<Payload> types(const std::vector<CommandEvent>& events) {
  std::vector<Payload> out;
  for (const auto& e : events) {
    if (e.type != Payload::CommandOutput) out.push_back(e.type);
  }
  return out;
}

const CommandEvent& last(const std::vector<CommandEvent>& events) {
  REQUIRE_FALSE(events.empty());
  return events.back();
}

bool process_gone(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(pid, 0) != 0) return true;
    // A reparented zombie is reaped by init shortly.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(stat, text);
    if (text.find(") Z ") != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace

TEST_CASE("a shell command completes with its exit code and both streams apart") {
  Harness h;
  auto cmd = shell_command("echo out-line; echo err-line >&2; exit 3");
  auto ev = h.run(cmd);
  CHECK(types(ev) ==
        std::vector{Payload::CommandReceived, Payload::CommandStarted, Payload::CommandCompleted});
  CHECK(ev.front().kind == "shell");
  CHECK(ev[1].pid > 0);
  CHECK(last(ev).exit_code == 3);
  CHECK(output_of(ev, OutputStream::Stdout) == "out-line\n");
  CHECK(output_of(ev, OutputStream::Stderr) == "err-line\n");
  CHECK(last(ev).stdout_bytes == 9);
  CHECK_FALSE(last(ev).stdout_truncated);
  // The script file is gone once the command finished.
  CHECK_FALSE(std::filesystem::exists(h.dir / "command-scripts" / cmd.id.str()));
}

TEST_CASE("exec runs argv without a shell, in its working directory, with its environment") {
  Harness h;
  auto cmd = exec_command({"sh", "-c", "pwd; echo \"$GREETING\"; echo \"$PATH\"", "ignored"});
  cmd.working_dir = "/tmp";
  cmd.env = {{"GREETING", "hello $(not expanded)"}};
  auto ev = h.run(cmd);
  REQUIRE(last(ev).type == Payload::CommandCompleted);
  CHECK(output_of(ev, OutputStream::Stdout) ==
        "/tmp\nhello $(not "
        "expanded)\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
  // No shell between the agent and the program: a metacharacter argument arrives verbatim.
  auto echo = exec_command({"/bin/echo", "a;b", "$HOME", "*"});
  auto ev2 = h.run(echo);
  CHECK(output_of(ev2, OutputStream::Stdout) == "a;b $HOME *\n");
}

TEST_CASE("a named interpreter runs the script when installed") {
  Harness h;
  auto bash = h.run(shell_command("echo ${BASH_VERSION:+bash}", "bash"));
  REQUIRE(last(bash).type == Payload::CommandCompleted);
  CHECK(output_of(bash, OutputStream::Stdout) == "bash\n");
  if (std::filesystem::exists("/usr/bin/python3")) {
    auto py = h.run(shell_command("import sys\nprint(sys.version_info[0])", "python3"));
    CHECK(output_of(py, OutputStream::Stdout) == "3\n");
  }
  auto missing = h.run(shell_command("echo", "no-such-interpreter"));
  CHECK(types(missing) == std::vector{Payload::CommandReceived, Payload::CommandRejected});
  CHECK(last(missing).reason.find("not installed") != std::string::npos);
}

TEST_CASE("a command that cannot start is failed with the reason") {
  Harness h;
  auto missing = h.run(exec_command({"/nonexistent/program"}));
  CHECK(types(missing) == std::vector{Payload::CommandReceived, Payload::CommandFailed});
  CHECK(last(missing).reason.find("/nonexistent/program") != std::string::npos);
  auto not_found = h.run(exec_command({"no-such-program-anywhere"}));
  CHECK(last(not_found).type == Payload::CommandFailed);
  auto bad_dir = exec_command({"/bin/true"});
  bad_dir.working_dir = "/nonexistent-dir";
  auto ev = h.run(bad_dir);
  CHECK(last(ev).type == Payload::CommandFailed);
  CHECK(last(ev).reason.find("working directory") != std::string::npos);
  // Executable but not a program: exec itself fails, in the child, and says why.
  const auto garbage = h.dir / "not-a-program";
  { std::ofstream(garbage) << "\x7f\x01garbage"; }
  std::filesystem::permissions(garbage, std::filesystem::perms::owner_all);
  auto bad_exec = h.run(exec_command({garbage.string()}));
  CHECK(types(bad_exec) == std::vector{Payload::CommandReceived, Payload::CommandFailed});
  CHECK_MESSAGE(last(bad_exec).reason.find("Exec format error") != std::string::npos,
                last(bad_exec).reason);
}

TEST_CASE("a timeout kills the whole process group, even a child that ignores SIGTERM") {
  Harness h;
  // The shell and its background child both ignore SIGTERM; only SIGKILL ends them.
  auto cmd = shell_command("trap '' TERM; sleep 60 & echo $!; wait; wait");
  cmd.timeout_ms = 1000;
  auto started = std::chrono::steady_clock::now();
  auto ev = h.run(cmd, 15s);
  REQUIRE(last(ev).type == Payload::CommandTimedOut);
  CHECK(last(ev).killed);
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  auto child = std::stol(output_of(ev, OutputStream::Stdout));
  CHECK(process_gone(static_cast<pid_t>(child), 5s));
  CHECK(process_gone(static_cast<pid_t>(ev[1].pid), 5s));
}

TEST_CASE("a process that exits on SIGTERM at the timeout is not SIGKILLed") {
  Harness h;
  auto cmd = shell_command("sleep 60");
  cmd.timeout_ms = 500;
  auto ev = h.run(cmd);
  REQUIRE(last(ev).type == Payload::CommandTimedOut);
  CHECK_FALSE(last(ev).killed);
}

TEST_CASE("cancel stops a running command's group and drops a queued one") {
  auto options = fast_options();
  options.concurrency = 1;
  Harness h(options);
  auto running = shell_command("echo started; sleep 60");
  auto queued = shell_command("echo never");
  REQUIRE(h.send(running) == Disposition::kAck);
  REQUIRE(h.send(queued) == Disposition::kAck);
  // Wait until the first one runs (its output arrived).
  for (int i = 0; i < 200 && output_of(h.events(running.id), OutputStream::Stdout).empty(); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  auto cancel_queued = action_command(codec::CancelSpec{queued.id});
  auto cancel_running = action_command(codec::CancelSpec{running.id});
  CHECK(h.send(cancel_queued) == Disposition::kAck);
  CHECK(h.send(cancel_running) == Disposition::kAck);
  auto q = wait_terminal(*h.outbox, queued.id, 5s);
  CHECK(types(q) == std::vector{Payload::CommandReceived, Payload::CommandCancelled});
  CHECK_FALSE(last(q).was_running);
  CHECK(last(q).cancel_command == cancel_queued.id);
  auto r = wait_terminal(*h.outbox, running.id, 5s);
  REQUIRE(last(r).type == Payload::CommandCancelled);
  CHECK(last(r).was_running);
  CHECK(last(r).cancel_command == cancel_running.id);
  CHECK(process_gone(static_cast<pid_t>(r[1].pid), 5s));
  CHECK(last(h.events(cancel_running.id)).type == Payload::CommandCompleted);
  // Nothing left to cancel: the cancel itself is rejected.
  auto again = h.run(action_command(codec::CancelSpec{running.id}));
  CHECK(last(again).type == Payload::CommandRejected);
}

TEST_CASE("an expired command is reported expired and never started") {
  FakeClock clock;
  auto options = fast_options();
  options.concurrency = 1;
  Harness h(options, {}, clock);
  auto late = shell_command("echo ran");
  late.issued_at = clock.now() - 2;
  late.expires_at = clock.now() - 1;
  auto ev = h.run(late);
  CHECK(types(ev) == std::vector{Payload::CommandReceived, Payload::CommandExpired});

  // Expiry is checked again when a queued command's turn comes.
  auto blocker = shell_command("sleep 0.5");
  auto waits = shell_command("echo ran");
  waits.issued_at = clock.now();
  waits.expires_at = clock.now() + 1'000'000'000;
  REQUIRE(h.send(blocker) == Disposition::kAck);
  REQUIRE(h.send(waits) == Disposition::kAck);
  clock.advance(2s);
  auto w = wait_terminal(*h.outbox, waits.id, 5s);
  CHECK(types(w) == std::vector{Payload::CommandReceived, Payload::CommandExpired});
  CHECK(last(wait_terminal(*h.outbox, blocker.id, 5s)).type == Payload::CommandCompleted);
}

TEST_CASE("commands this agent must not run are rejected with a reason") {
  Harness h;
  auto reason_of = [&](codec::CommandInfo c) {
    auto ev = h.run(c);
    REQUIRE(types(ev) == std::vector{Payload::CommandReceived, Payload::CommandRejected});
    return last(ev).reason;
  };
  CHECK(reason_of(action_command(codec::PowerShellSpec{"Get-Process"})).find("Windows") !=
        std::string::npos);
  CHECK(reason_of(action_command(codec::CmdSpec{"dir"})) ==
        "cmd commands run on Windows agents only (this agent runs on Linux)");
  CHECK(
      reason_of(action_command(codec::RegistrySpec{.op = schema::RegistryOperation::DeleteKey})) ==
      "registry command: delete_key needs a key below the hive");
  CHECK(reason_of(action_command(codec::RebootSpec{false})).find("confirm") != std::string::npos);
  CHECK(reason_of(action_command(codec::UpdateAgentSpec{"1.2.3", "https://x", "ab"})) ==
        "updater not installed");
  auto bad_env = shell_command("echo");
  bad_env.env = {{"BAD=NAME", "x"}};
  CHECK(reason_of(bad_env).find("environment") != std::string::npos);
  auto too_long = shell_command("echo");
  too_long.timeout_ms = 100ull * 24 * 3600 * 1000;
  CHECK(reason_of(too_long).find("timeout_ms") != std::string::npos);
}

TEST_CASE("output beyond the cap is discarded with a truncation marker; chunks are contiguous") {
  Harness h;
  auto cmd = shell_command("head -c 300000 /dev/zero | tr '\\0' a; echo tail >&2");
  cmd.output_cap_bytes = 100'000;
  auto ev = h.run(cmd);
  REQUIRE(last(ev).type == Payload::CommandCompleted);
  CHECK(last(ev).stdout_bytes == 300'000);
  CHECK(last(ev).stdout_truncated);
  CHECK_FALSE(last(ev).stderr_truncated);
  CHECK(output_of(ev, OutputStream::Stdout) == std::string(100'000, 'a'));
  CHECK(output_of(ev, OutputStream::Stderr) == "tail\n");
  std::uint64_t offset = 0;
  std::uint32_t index = 0;
  int markers = 0;
  for (const auto& e : ev) {
    if (e.type != Payload::CommandOutput) continue;
    CHECK(e.chunk_index == index++);
    if (e.stream != OutputStream::Stdout) continue;
    CHECK(e.offset == offset);
    CHECK(e.data.size() <= 64 * 1024);
    offset += e.data.size();
    markers += e.truncated ? 1 : 0;
  }
  CHECK(markers == 1);
  CHECK(index >= 3);  // 100,000 bytes in 64 KiB chunks, plus stderr
}

TEST_CASE("output is sent while the command runs") {
  Harness h;
  auto cmd = shell_command("echo first; sleep 3; echo second");
  REQUIRE(h.send(cmd) == Disposition::kAck);
  std::string seen;
  for (int i = 0; i < 100 && seen.empty(); ++i) {
    std::this_thread::sleep_for(20ms);
    seen = output_of(h.events(cmd.id), OutputStream::Stdout);
  }
  CHECK(seen == "first\n");
  CHECK_FALSE(is_terminal(last(h.events(cmd.id)).type));
  auto ev = wait_terminal(*h.outbox, cmd.id, 10s);
  CHECK(output_of(ev, OutputStream::Stdout) == "first\nsecond\n");
}

TEST_CASE("a redelivered command is acked and not run again") {
  Harness h;
  auto dir = h.dir / "runs";
  std::filesystem::create_directories(dir);
  auto cmd = shell_command("echo x >> " + (dir / "count").string());
  auto ev = h.run(cmd);
  REQUIRE(last(ev).type == Payload::CommandCompleted);
  CHECK(h.send(cmd) == Disposition::kAck);
  CHECK(h.send(cmd) == Disposition::kAck);
  std::this_thread::sleep_for(300ms);
  CHECK(h.events(cmd.id).size() == ev.size());
  CHECK(h.runner->stats().duplicates == 2);
  std::ifstream in(dir / "count");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  CHECK(all == "x\n");
  // Also across a restart of the runner (the record is on disk).
  h.stop();
  h.start();
  CHECK(h.send(cmd) == Disposition::kAck);
  CHECK(h.runner->stats().duplicates == 1);
}

TEST_CASE("unreadable messages are terminated, not retried") {
  Harness h;
  std::vector<std::uint8_t> junk(64, 0x5a);
  CHECK(h.runner->accept(junk, {}) == Disposition::kTerm);
  auto bytes = signed_for(h.agent_id, shell_command("echo"));
  bytes[bytes.size() / 2] ^= 0xff;
  bytes.resize(bytes.size() - 9);
  CHECK(h.runner->accept(bytes, {}) == Disposition::kTerm);
  // What another client can make the server store on this agent's subject: an empty status
  // message ("404 No Messages") and a JSON publish ack.
  CHECK(h.runner->accept({}, {}) == Disposition::kTerm);
  std::string ack = R"({"stream":"RMM_EVENTS","seq":7})";
  CHECK(h.runner->accept({reinterpret_cast<const std::uint8_t*>(ack.data()), ack.size()}, {}) ==
        Disposition::kTerm);
  CHECK(h.runner->stats().unreadable == 4);
  CHECK(outbox_command_events(*h.outbox).empty());
}

TEST_CASE("commands not signed by a trusted key for this agent are refused and never run") {
  Harness h;
  const auto marker = h.dir / "ran";
  auto touch = [&] { return shell_command("echo x >> " + marker.string()); };
  // Each is terminated (never acked, never left pending) and reported with its reason.
  auto refused = [&](const codec::CommandInfo& c, const std::vector<std::uint8_t>& bytes) {
    REQUIRE(h.send_bytes(bytes) == Disposition::kTerm);
    auto ev = h.events(c.id);
    REQUIRE(types(ev) == std::vector{Payload::CommandRejected});
    return ev.front().reason;
  };
  auto hour = [] {
    return real_clock().now() + std::chrono::nanoseconds(std::chrono::hours(1)).count();
  };

  auto unsigned_cmd = touch();
  unsigned_cmd.agent = h.agent_id;
  unsigned_cmd.issued_at = real_clock().now();
  unsigned_cmd.expires_at = hour();
  CHECK(refused(unsigned_cmd, codec::build_command(unsigned_cmd)).find("unsigned") !=
        std::string::npos);

  auto stranger = touch();
  CHECK(refused(stranger, signed_for(h.agent_id, stranger, signing::generate_key()))
            .find("does not trust") != std::string::npos);

  // One byte of the signed envelope changed: "echo x" becomes "echo y".
  auto altered = touch();
  auto bytes = signed_for(h.agent_id, altered);
  std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto at = view.find("echo x");
  REQUIRE(at != std::string_view::npos);
  bytes[at + 5] = 'y';
  CHECK(refused(altered, bytes).find("bad signature") != std::string::npos);

  auto elsewhere = touch();
  elsewhere.agent = AgentId::generate(real_clock());
  CHECK(refused(elsewhere, signed_for(h.agent_id, elsewhere)).find("for agent") !=
        std::string::npos);

  auto nobody = touch();
  nobody.issued_at = real_clock().now();
  nobody.expires_at = hour();
  CHECK(refused(nobody, codec::build_signed_command(nobody, test_command_key()))
            .find("names no agent") != std::string::npos);

  CHECK(h.runner->stats().refused == 5);
  CHECK(h.runner->stats().accepted == 0);
  // A refused id is not journaled: the real command with that id still runs once.
  REQUIRE(h.send(unsigned_cmd) == Disposition::kAck);
  std::vector<CommandEvent> ev;
  for (int i = 0; i < 500; ++i) {
    ev = h.events(unsigned_cmd.id);
    if (last(ev).type == Payload::CommandCompleted) break;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(types(ev) == std::vector{Payload::CommandRejected, Payload::CommandReceived,
                                 Payload::CommandStarted, Payload::CommandCompleted});
  // A forged copy of a known command is terminated without touching its outcome.
  CHECK(h.send_bytes(codec::build_command(unsigned_cmd)) == Disposition::kTerm);
  CHECK(h.events(unsigned_cmd.id).size() == ev.size());
  std::ifstream in(marker);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  CHECK(all == "x\n");
}

TEST_CASE("a signed command must name an issue time and an expiry within the lifetime") {
  Harness h;
  auto reason_of = [&](codec::CommandInfo c) {
    c.agent = h.agent_id;
    REQUIRE(h.send_bytes(codec::build_signed_command(c, test_command_key())) == Disposition::kAck);
    auto ev = wait_terminal(*h.outbox, c.id, 5s);
    REQUIRE(types(ev) == std::vector{Payload::CommandReceived, Payload::CommandRejected});
    return last(ev).reason;
  };
  const auto now = real_clock().now();
  auto forever = shell_command("echo");
  forever.issued_at = now;
  CHECK(reason_of(forever) == "command has no expiry");
  auto undated = shell_command("echo");
  undated.expires_at = now + 1'000'000'000;
  CHECK(reason_of(undated) == "command has no issue time");
  auto long_lived = shell_command("echo");
  long_lived.issued_at = now;
  long_lived.expires_at = now + std::chrono::nanoseconds(std::chrono::hours(24 * 31)).count();
  CHECK(reason_of(long_lived).find("expires more than 720 h") != std::string::npos);
}

TEST_CASE("trust_command_keys replaces the trusted keys, durably, and the next commands use them") {
  Harness h;
  auto next = signing::generate_key();
  auto trust =
      action_command(codec::TrustCommandKeysSpec{{signing::public_key_hex(next.public_key)}});
  CHECK(last(h.run(trust)).type == Payload::CommandCompleted);
  auto stored = agent::load_command_keys(h.dir.path());
  REQUIRE(stored.has_value());
  REQUIRE(stored->size() == 1);
  CHECK(stored->front().public_key == next.public_key);

  auto old_key = shell_command("echo old");
  REQUIRE(h.send_bytes(signed_for(h.agent_id, old_key)) == Disposition::kTerm);
  CHECK(types(h.events(old_key.id)) == std::vector{Payload::CommandRejected});
  auto new_key = shell_command("echo new");
  REQUIRE(h.send_bytes(signed_for(h.agent_id, new_key, next)) == Disposition::kAck);
  CHECK(last(wait_terminal(*h.outbox, new_key.id, 10s)).type == Payload::CommandCompleted);

  // A malformed list changes nothing.
  auto bad = action_command(codec::TrustCommandKeysSpec{{"not-hex"}});
  REQUIRE(h.send_bytes(signed_for(h.agent_id, bad, next)) == Disposition::kAck);
  CHECK(last(wait_terminal(*h.outbox, bad.id, 5s)).type == Payload::CommandRejected);
  CHECK(agent::load_command_keys(h.dir.path())->front().public_key == next.public_key);
}

TEST_CASE("the concurrency limit queues commands and they start in order of arrival") {
  auto options = fast_options();
  options.concurrency = 2;
  Harness h(options);
  std::vector<codec::CommandInfo> cmds;
  for (int i = 0; i < 5; ++i) cmds.push_back(shell_command("sleep 0.4"));
  for (const auto& c : cmds) REQUIRE(h.send(c) == Disposition::kAck);
  std::size_t most = 0;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = h.runner->stats();
    most = std::max(most, s.running);
    if (s.finished == cmds.size()) break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(most == 2);
  CHECK(h.runner->stats().finished == cmds.size());
  std::vector<CommandId> start_order;
  for (const auto& e : outbox_command_events(*h.outbox)) {
    if (e.type == Payload::CommandStarted) start_order.push_back(e.command);
  }
  REQUIRE(start_order.size() == cmds.size());
  for (std::size_t i = 0; i < cmds.size(); ++i) CHECK(start_order[i] == cmds[i].id);
}

TEST_CASE("a command found running at start is reported interrupted; queued ones resume") {
  auto options = fast_options();
  options.concurrency = 1;
  Harness h(options);
  auto running = shell_command("sleep 60");
  auto queued = shell_command("echo resumed");
  REQUIRE(h.send(running) == Disposition::kAck);
  REQUIRE(h.send(queued) == Disposition::kAck);
  for (int i = 0; i < 200 && h.events(running.id).size() < 2; ++i)
    std::this_thread::sleep_for(10ms);
  REQUIRE(h.events(running.id).size() >= 2);
  // An orderly stop interrupts what runs and keeps what waits.
  h.stop();
  auto r = h.events(running.id);
  CHECK(last(r).type == Payload::CommandInterrupted);
  CHECK(process_gone(static_cast<pid_t>(r[1].pid), 5s));
  CHECK(types(h.events(queued.id)) == std::vector{Payload::CommandReceived});
  h.start();
  auto q = wait_terminal(*h.outbox, queued.id, 5s);
  CHECK(types(q) ==
        std::vector{Payload::CommandReceived, Payload::CommandStarted, Payload::CommandCompleted});
  CHECK(output_of(q, OutputStream::Stdout) == "resumed\n");

  // A crash leaves the record "running": simulated by writing it, then starting a runner.
  h.stop();
  auto crashed = CommandId::generate(real_clock());
  {
    auto store = agent::CommandStore::open(h.dir / "commands", real_clock());
    REQUIRE(store.has_value());
    auto bytes = codec::build_command(shell_command("sleep 60"));
    REQUIRE((*store)->record_queued(crashed, bytes).has_value());
    REQUIRE((*store)->mark_running(crashed, "boot-1").has_value());
  }
  h.start();
  auto c = h.events(crashed);
  REQUIRE(c.size() == 1);
  CHECK(c[0].type == Payload::CommandInterrupted);
  // Reported once: a second restart finds it finished.
  h.stop();
  h.start();
  CHECK(h.events(crashed).size() == 1);
}

TEST_CASE("reboot runs the injected executor; a new boot reports it completed") {
  int reboots = 0;
  agent::CommandHooks hooks;
  hooks.reboot = [&] {
    ++reboots;
    return Status{};
  };
  Harness h(fast_options(), hooks);
  auto reboot = action_command(codec::RebootSpec{true});
  REQUIRE(h.send(reboot) == Disposition::kAck);
  for (int i = 0; i < 200 && reboots == 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(reboots == 1);
  // The agent is stopped by the reboot: the command stays running...
  h.stop();
  CHECK(types(h.events(reboot.id)) ==
        std::vector{Payload::CommandReceived, Payload::CommandStarted});
  // ...and the agent's start in the new boot reports it completed, without rebooting again.
  h.options.boot_id = "boot-2";
  h.start();
  auto ev = h.events(reboot.id);
  CHECK(last(ev).type == Payload::CommandCompleted);
  CHECK(last(ev).exit_code == 0);
  CHECK(reboots == 1);
}

TEST_CASE("apply_config validates through the hook, persists and applies live") {
  std::vector<codec::KeyValues> applied;
  agent::CommandHooks hooks;
  hooks.apply_config = [&](const codec::KeyValues& kv) -> Status {
    for (const auto& [k, v] : kv) {
      if (k == "bogus") return fail("unknown setting 'bogus'");
    }
    applied.push_back(kv);
    return {};
  };
  Harness h(fast_options(), hooks);
  auto ok = h.run(action_command(codec::ApplyConfigSpec{{{"metrics-interval", "5s"}}}));
  CHECK(last(ok).exit_code == 0);
  auto more = h.run(action_command(
      codec::ApplyConfigSpec{{{"metrics-interval", "10s"}, {"heartbeat-interval", "15s"}}}));
  CHECK(last(more).exit_code == 0);
  auto bad = h.run(action_command(codec::ApplyConfigSpec{{{"bogus", "1"}}}));
  CHECK(last(bad).type == Payload::CommandCompleted);
  CHECK(last(bad).exit_code == 1);
  CHECK(output_of(bad, OutputStream::Stderr).find("bogus") != std::string::npos);
  CHECK(applied.size() == 2);
  auto saved = agent::load_applied_config(h.dir.path());
  REQUIRE(saved.has_value());
  CHECK(*saved == codec::KeyValues{{"metrics-interval", "10s"}, {"heartbeat-interval", "15s"}});
  struct stat st {};
  REQUIRE(::stat((h.dir / "applied_config").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("refresh_inventory and collect_processes run their hooks") {
  int inventories = 0;
  agent::CommandHooks hooks;
  hooks.refresh_inventory = [&] {
    ++inventories;
    return Status{};
  };
  Harness h(fast_options(), hooks);
  auto inv = h.run(action_command(codec::RefreshInventorySpec{}));
  CHECK(last(inv).exit_code == 0);
  CHECK(inventories == 1);
  // The default process listing reads the live machine.
  auto ps = h.run(action_command(codec::CollectProcessesSpec{}), 15s);
  REQUIRE(last(ps).type == Payload::CommandCompleted);
  CHECK(last(ps).exit_code == 0);
  CHECK(output_of(ps, OutputStream::Stdout).find("pid\tuser\tcpu_percent") != std::string::npos);
}

TEST_CASE("kill_process stops a real process, and refuses one whose name changed") {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  REQUIRE(pid > 0);
  for (int i = 0; i < 200; ++i) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    if (std::getline(comm, name) && name == "sleep") break;
    ::usleep(10'000);
  }
  Harness h;
  const auto p = static_cast<std::uint32_t>(pid);
  auto wrong = h.run(action_command(codec::KillProcessSpec{p, "bash"}));
  CHECK(wrong.front().kind == "kill_process");
  CHECK(last(wrong).exit_code == 1);
  CHECK(output_of(wrong, OutputStream::Stderr).find("left alone") != std::string::npos);
  auto ok = h.run(action_command(codec::KillProcessSpec{p, "sleep"}), 15s);
  CHECK(last(ok).exit_code == 0);
  CHECK(output_of(ok, OutputStream::Stdout).find("stopped (SIGTERM)") != std::string::npos);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
}

TEST_CASE("a registry command on Linux completes with exit code 1 and the platform's reason") {
  Harness h;
  auto ev = h.run(action_command(codec::RegistrySpec{.op = schema::RegistryOperation::List,
                                                     .hive = schema::RegistryHive::HKLM,
                                                     .key = "Software"}));
  CHECK(types(ev) ==
        std::vector{Payload::CommandReceived, Payload::CommandStarted, Payload::CommandCompleted});
  CHECK(ev.front().kind == "registry");
  CHECK(last(ev).exit_code == 1);
  CHECK(output_of(ev, OutputStream::Stdout).empty());
  CHECK(output_of(ev, OutputStream::Stderr) ==
        "the registry exists on Windows only (this agent runs on Linux)\n");
}
