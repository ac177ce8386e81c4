// The whole update on this machine, through a real nats-server: rmm-watchdog runs rmm-agent
// version A from a scratch install dir; an update_agent command makes the agent start
// rmm-updater, which fetches the signed release (a second build of the agent, version B) over
// NATS, verifies it, swaps the binary and waits for B's health; B then reports through NATS. A
// release that crashes on start is rolled back to A.
#include <doctest/doctest.h>

#include <fstream>
#include <thread>

#include "common/agent_local.h"
#include "common/event_codec.h"
#include "tests/fixtures/process.h"
#include "tests/updater/update_helpers.h"
#include "updater/install.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kVersionA = RMM_AGENT_VERSION_STRING;
const std::string kVersionB = RMM_AGENT_NEXT_VERSION;

struct Machine {
  explicit Machine(const char* name) : dir(name) {
    state = make_agent_state(dir.path(), nats, id);
    fs::create_directories(dir / "install");
    bin = dir / "install" / "rmm-agent";
    fs::copy_file(kBinDir + "/rmm-agent", bin);
    ProcessOptions o;
    o.program = kBinDir + "/rmm-watchdog";
    o.args = {"--state-dir",
              state.string(),
              "--agent-log",
              (dir / "agent.log").string(),
              "--backoff-initial",
              "200ms",
              "--crash-loop-restarts",
              "4",
              "--",
              bin.string(),
              "--state-dir",
              state.string(),
              "--nats-url",
              nats.url(),
              "--heartbeat-interval",
              "1s",
              "--updater",
              kBinDir + "/rmm-updater-testkeys"};
    // Inherited by the agent and so by the updater it starts (settings from RMM_* variables).
    o.env = {{"RMM_HEALTH_TIMEOUT", "20s"}, {"RMM_STABLE_FOR", "1s"}, {"RMM_STOP_GRACE", "5s"}};
    o.log_file = dir / "watchdog.log";
    watchdog = Process::start(o);
  }

  // Waits until the agent's health file names `version` (and a live process).
  bool wait_version(const std::string& version, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto h = local::read_health(state);
      if (h && h->version == version && local::process_alive(h->pid)) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  std::string logs() const {
    std::string out;
    for (const char* f : {"watchdog.log", "agent.log", "agent/updater.log"}) {
      std::ifstream in(dir / f);
      out += std::string("--- ") + f + "\n" +
             std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return out;
  }

  NatsServerFixture nats;
  TempDir dir;
  AgentId id = AgentId::generate(real_clock());
  fs::path state;
  fs::path bin;
  Process watchdog;
};

// The UpdateProgress events of `agent` in RMM_EVENTS until one has `last`.
std::vector<codec::UpdateProgressInfo> progress_until(const Machine& m, schema::UpdateStep last) {
  std::vector<codec::UpdateProgressInfo> out;
  auto decode = [&](const std::vector<std::vector<std::uint8_t>>& raw) {
    out.clear();
    for (const auto& bytes : raw) {
      auto env = codec::verify_event(bytes);
      REQUIRE(env.has_value());
      const auto* p = (*env)->payload_as_UpdateProgress();
      REQUIRE(p != nullptr);
      out.push_back({CommandId(codec::from_wire(p->command_id())), p->from_version()->str(),
                     p->to_version()->str(), p->step(), p->reason()->str(), p->detail()->str()});
    }
    return !out.empty() && out.back().step == last;
  };
  stored_events(m.nats, m.id, schema::Payload::UpdateProgress, 40s, decode);
  return out;
}

bool agent_started_with(const Machine& m, const std::string& version) {
  bool found = false;
  stored_events(m.nats, m.id, schema::Payload::AgentStarted, 15s, [&](const auto& raw) {
    for (const auto& bytes : raw) {
      auto env = codec::verify_event(bytes);
      if (env && (*env)->payload_as_AgentStarted()->agent_version()->str() == version) found = true;
    }
    return found;
  });
  return found;
}

}  // namespace

TEST_CASE("an update from A to B through NATS ends with B running and reporting") {
  REQUIRE(kVersionA != kVersionB);
  Machine m("update_e2e");
  REQUIRE_MESSAGE(m.wait_version(kVersionA, 20s), m.logs());
  auto release =
      make_release(read_binary(kBinDir + "/rmm-agent-vnext"), kVersionB, test_key(1), 256 * 1024);
  publish(m.nats, release);
  auto started = std::chrono::steady_clock::now();
  CommandId command = send_update(m.nats, m.id, kVersionB);

  REQUIRE_MESSAGE(m.wait_version(kVersionB, 60s), m.logs());
  auto steps = progress_until(m, schema::UpdateStep::Healthy);
  MESSAGE("healthy on ", kVersionB, " after ",
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                started)
              .count(),
          " ms");
  INFO(m.logs());
  REQUIRE(!steps.empty());
  std::vector<schema::UpdateStep> seen;
  for (const auto& s : steps) {
    CHECK(s.command == command);
    CHECK(s.from_version == kVersionA);
    CHECK(s.to_version == kVersionB);
    seen.push_back(s.step);
  }
  using S = schema::UpdateStep;
  CHECK(seen == std::vector<S>{S::Started, S::Downloaded, S::Verified, S::Installed, S::Healthy});
  // B itself reports through NATS, and the old binary is kept for a rollback.
  CHECK(agent_started_with(m, kVersionB));
  CHECK(read_binary(m.bin) == release.artifact);
  CHECK(read_binary(updater::previous_path(m.bin)) == read_binary(kBinDir + "/rmm-agent"));
  CHECK_FALSE(fs::exists(local::update_lock_path(m.state)));
}

TEST_CASE("a version B that crashes on start is rolled back to A") {
  Machine m("update_rollback");
  REQUIRE_MESSAGE(m.wait_version(kVersionA, 20s), m.logs());
  std::string script = "#!/bin/sh\necho 'broken build: exiting' >&2\nexit 3\n";
  auto release =
      make_release(std::vector<std::uint8_t>(script.begin(), script.end()), kVersionB, test_key(1));
  publish(m.nats, release);
  send_update(m.nats, m.id, kVersionB);
  auto t0 = std::chrono::steady_clock::now();
  auto steps = progress_until(m, schema::UpdateStep::RolledBack);
  MESSAGE("progress read after ", (std::chrono::steady_clock::now() - t0) / 1ms, " ms");
  INFO(m.logs());
  REQUIRE(!steps.empty());
  CHECK(steps.back().step == schema::UpdateStep::RolledBack);
  CHECK((steps.back().reason == "crash_loop" || steps.back().reason == "health_timeout"));
  CHECK(m.wait_version(kVersionA, 10s));
  MESSAGE("A back after ", (std::chrono::steady_clock::now() - t0) / 1ms, " ms");
  CHECK(read_binary(m.bin) == read_binary(kBinDir + "/rmm-agent"));
  CHECK_FALSE(fs::exists(local::update_lock_path(m.state)));
}
