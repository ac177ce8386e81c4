// rmm-watchdog supervising real processes: the real rmm-agent killed with SIGKILL comes back
// within 5 s; a crash loop is detected, alerted and stops the restarts; a hung process (no
// liveness signal) is restarted; a memory limit raises an alert; a deliberate stop under the
// updater's lock is not fought.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "common/agent_local.h"
#include "common/event_codec.h"
#include "tests/fixtures/process.h"
#include "tests/updater/update_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

Process start_watchdog(const fs::path& dir, const fs::path& state, std::vector<std::string> opts,
                       const std::vector<std::string>& agent) {
  std::vector<std::string> args = {"--state-dir", state.string(), "--agent-log",
                                   (dir / "agent.log").string()};
  args.insert(args.end(), opts.begin(), opts.end());
  args.push_back("--");
  args.insert(args.end(), agent.begin(), agent.end());
  return Process::start({kBinDir + "/rmm-watchdog", args, {}, dir / "watchdog.log"});
}

template <class Pred>
bool eventually(std::chrono::milliseconds limit, Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t line_count(const fs::path& p) {
  auto text = read_text(p);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

bool has_alert(const fs::path& state, schema::WatchdogAlertKind kind) {
  for (const auto& a : spooled_alerts(state)) {
    if (a.kind == kind) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the watchdog restarts a SIGKILLed agent within 5 s, and the agent reports it") {
  NatsServerFixture nats;
  TempDir dir("watchdog_kill");
  AgentId id = AgentId::generate(real_clock());
  fs::path state = make_agent_state(dir.path(), nats, id);
  Process wd = start_watchdog(dir.path(), state, {"--backoff-initial", "200ms"},
                              {kBinDir + "/rmm-agent", "--state-dir", state.string(), "--nats-url",
                               nats.url(), "--heartbeat-interval", "1s"});
  std::optional<local::Health> first;
  REQUIRE_MESSAGE(eventually(20s,
                             [&] {
                               first = local::read_health(state);
                               return first && local::process_alive(first->pid);
                             }),
                  read_text(dir / "watchdog.log"));
  auto killed_at = std::chrono::steady_clock::now();
  REQUIRE(::kill(first->pid, SIGKILL) == 0);
  std::optional<local::Health> second;
  bool back = eventually(5s, [&] {
    second = local::read_health(state);
    return second && second->pid != first->pid && local::process_alive(second->pid);
  });
  INFO(read_text(dir / "watchdog.log"));
  REQUIRE(back);
  MESSAGE("agent back after ", (std::chrono::steady_clock::now() - killed_at) / 1ms, " ms");
  // The Restarted alert went through the spool into the restarted agent's outbox and to NATS.
  bool reported = false;
  stored_events(nats, id, schema::Payload::WatchdogAlert, 15s, [&](const auto& raw) {
    for (const auto& bytes : raw) {
      auto env = codec::verify_event(bytes);
      REQUIRE(env.has_value());
      const auto* a = (*env)->payload_as_WatchdogAlert();
      if (a != nullptr && a->kind() == schema::WatchdogAlertKind::Restarted &&
          a->detail()->str().find("signal 9") != std::string::npos) {
        reported = true;
      }
    }
    return reported;
  });
  CHECK(reported);
}

TEST_CASE("a crash loop is detected and alerted, and the restarts stop") {
  TempDir dir("watchdog_loop");
  fs::path state = dir / "state";
  fs::create_directories(state);
  fs::path starts = dir / "starts";
  Process wd = start_watchdog(
      dir.path(), state,
      {"--backoff-initial", "50ms", "--crash-loop-restarts", "4", "--crash-loop-window", "60s"},
      {"/bin/sh", "-c", "echo start >> " + starts.string() + "; exit 3"});
  REQUIRE_MESSAGE(
      eventually(10s, [&] { return has_alert(state, schema::WatchdogAlertKind::CrashLoop); }),
      read_text(dir / "watchdog.log"));
  CHECK(fs::exists(local::crash_loop_path(state)));
  auto alerts = spooled_alerts(state);
  REQUIRE(!alerts.empty());
  CHECK(alerts.back().kind == schema::WatchdogAlertKind::CrashLoop);
  CHECK(alerts.back().restarts == 4);
  CHECK(alerts.back().window_s == 60);
  std::size_t n = line_count(starts);
  CHECK(n == 4);
  std::this_thread::sleep_for(1500ms);
  CHECK(line_count(starts) == n);  // no more thrashing
}

TEST_CASE("a hung agent (stale liveness file) is killed and restarted; memory limit alerts") {
  TempDir dir("watchdog_hang");
  fs::path state = dir / "state";
  fs::create_directories(state);
  fs::path starts = dir / "starts";
  // Never writes agent.health: hung from the watchdog's point of view.
  Process wd =
      start_watchdog(dir.path(), state,
                     {"--liveness-timeout", "1s", "--backoff-initial", "50ms", "--memory-limit",
                      "1", "--usage-interval", "200ms"},
                     {"/bin/sh", "-c", "echo start >> " + starts.string() + "; exec sleep 60"});
  REQUIRE_MESSAGE(
      eventually(10s, [&] { return has_alert(state, schema::WatchdogAlertKind::Hang); }),
      read_text(dir / "watchdog.log"));
  CHECK(eventually(5s, [&] { return line_count(starts) >= 2; }));
  CHECK(has_alert(state, schema::WatchdogAlertKind::MemoryLimit));
}

TEST_CASE("under the updater's stop lock the watchdog keeps the agent stopped, then starts it") {
  TempDir dir("watchdog_lock");
  fs::path state = dir / "state";
  fs::create_directories(state);
  fs::path starts = dir / "starts";
  Process wd =
      start_watchdog(dir.path(), state, {"--backoff-initial", "50ms"},
                     {"/bin/sh", "-c", "echo start >> " + starts.string() + "; exec sleep 60"});
  REQUIRE(eventually(5s, [&] { return line_count(starts) == 1; }));
  // This test process plays the updater: its pid holds the lock.
  REQUIRE(local::write_update_lock(state, {::getpid(), local::UpdatePhase::kStop, 1}).has_value());
  std::this_thread::sleep_for(1000ms);
  CHECK(line_count(starts) == 1);        // stopped (SIGTERM) and not restarted
  CHECK(spooled_alerts(state).empty());  // a deliberate stop is no crash
  REQUIRE(local::write_update_lock(state, {::getpid(), local::UpdatePhase::kStart, 2}).has_value());
  CHECK(eventually(5s, [&] { return line_count(starts) == 2; }));
  local::remove_update_lock(state);
}
