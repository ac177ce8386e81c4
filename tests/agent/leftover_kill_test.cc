// What is left of a command's process group after the agent died: found through its record,
// killed at the next start before the command is reported interrupted, and never confused with
// another group that has the same number.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "agent/commands/command_runner.h"
#include "agent/platform/linux/process_group.h"
#include "agent/platform/linux/processes.h"
#include "common/files.h"
#include "tests/agent/commands_test_util.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
using schema::Payload;

namespace {

// Processes of group `pgid` that have not exited (zombies have).
std::size_t live_members(pid_t pgid, std::string* listing = nullptr) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto text = files::read_all(entry.path() / "stat");
    if (!text) continue;
    auto stat = agent::linux_proc::parse_proc_pid_stat(*text);
    if (stat && stat->pgrp == static_cast<std::uint32_t>(pgid)) {
      if (listing != nullptr) *listing += *text;
      if (stat->state != 'Z' && stat->state != 'X') ++n;
    }
  }
  return n;
}

// A process group as a command leaves it when the agent dies: its own group, in the agent's
// session, `members` processes running `script`.
struct Leftover {
  Leftover(const char* script, std::size_t members) {
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::setpgid(0, 0);
      ::execl("/bin/sh", "sh", "-c", script, static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    // Up to 20 s: a loaded test machine can take seconds to schedule a shell's exit.
    for (int i = 0; i < 1000 && live_members(pid) != members; ++i)
      std::this_thread::sleep_for(20ms);
    std::string listing;
    if (live_members(pid, &listing) != members) MESSAGE("group ", pid, ":\n", listing);
    REQUIRE(live_members(pid) == members);
    auto r = agent::linux_proc::group_record(static_cast<std::uint32_t>(pid));
    REQUIRE(r.has_value());
    record = *r;
  }
  ~Leftover() {
    ::kill(-pid, SIGKILL);
    reap();
  }
  void reap() {
    if (!reaped) ::waitpid(pid, nullptr, 0);
    reaped = true;
  }
  pid_t pid = -1;
  bool reaped = false;
  agent::platform::ProcessGroupRecord record;
};

}  // namespace

TEST_CASE("the recorded group is killed, and another group with its number is not") {
  Leftover g("sleep 60 & exec sleep 60", 2);
  CHECK(g.record.group == static_cast<std::uint64_t>(g.pid));
  CHECK(g.record.session == static_cast<std::uint64_t>(::getsid(0)));
  CHECK(g.record.leader_start > 0);

  // The number names a group led by another process (its start time differs): ours is gone.
  auto other_leader = g.record;
  other_leader.leader_start += 1;
  auto r = agent::platform::kill_leftover_group(other_leader, 200ms);
  REQUIRE(r.has_value());
  CHECK(r->killed == 0);
  // Members of another session cannot be of the recorded group.
  auto other_session = g.record;
  other_session.session += 1;
  r = agent::platform::kill_leftover_group(other_session, 200ms);
  REQUIRE(r.has_value());
  CHECK(r->killed == 0);
  CHECK(live_members(g.pid) == 2);

  r = agent::platform::kill_leftover_group(g.record, 20s);
  REQUIRE(r.has_value());
  CHECK(r->killed == 2);
  CHECK(r->remaining == 0);
  CHECK(live_members(g.pid) == 0);
  r = agent::platform::kill_leftover_group(g.record, 1s);
  REQUIRE(r.has_value());
  CHECK(r->killed == 0);
  CHECK_FALSE(agent::platform::kill_leftover_group({}, 1s).has_value());  // no group: refused
}

TEST_CASE("members are found after their leader has gone (the shell SIGKILLed with the agent)") {
  Leftover g("sleep 60 & exit 0", 1);
  g.reap();  // the leader's pid is free now; the background job keeps the group
  auto r = agent::platform::kill_leftover_group(g.record, 20s);
  REQUIRE(r.has_value());
  CHECK(r->killed == 1);
  CHECK(live_members(g.pid) == 0);
}

TEST_CASE("a restart kills what is left of a program recorded as running, in the same boot only") {
  Leftover same_boot("sleep 60 & exec sleep 60", 2);
  Leftover earlier_boot("sleep 60 & exec sleep 60", 2);
  TempDir dir("leftover");
  const auto a = CommandId::generate(real_clock());
  const auto b = CommandId::generate(real_clock());
  {
    auto store = agent::CommandStore::open(dir / "commands", real_clock());
    REQUIRE(store.has_value());
    const auto bytes = codec::build_command(shell_command("sleep 60"));
    REQUIRE((*store)->record_queued(a, bytes).has_value());
    REQUIRE((*store)->mark_running(a, "boot-1", same_boot.record).has_value());
    REQUIRE((*store)->record_queued(b, bytes).has_value());
    REQUIRE((*store)->mark_running(b, "boot-0", earlier_boot.record).has_value());
    auto found = (*store)->find(a);
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    CHECK((*found)->process == same_boot.record);  // the record survives the round trip
  }
  auto box = agent::Outbox::open(dir / "outbox", {}, real_clock());
  REQUIRE(box.has_value());
  agent::CommandRunnerOptions options;
  options.state_dir = dir.path();
  options.boot_id = "boot-1";
  options.leftover_wait = 20s;  // returns as soon as none is left; generous for a loaded machine
  auto runner =
      agent::CommandRunner::create(**box, nullptr, AgentId::generate(real_clock()), options);
  REQUIRE(runner.has_value());
  REQUIRE((*runner)->start().has_value());
  auto events = outbox_command_events(**box);
  auto ea = events_of(events, a);
  REQUIRE(ea.size() == 1);
  CHECK(ea[0].type == Payload::CommandInterrupted);
  CHECK(ea[0].reason.find("2 of its processes were still running and were killed") !=
        std::string::npos);
  CHECK(live_members(same_boot.pid) == 0);  // before it was reported
  // Recorded in another boot: nothing of it can run now, and the numbers name other processes.
  auto eb = events_of(events, b);
  REQUIRE(eb.size() == 1);
  CHECK(eb[0].type == Payload::CommandInterrupted);
  CHECK(eb[0].reason == "the agent stopped while the command was running");
  CHECK(live_members(earlier_boot.pid) == 2);
  runner->reset();  // closes its command store
  auto store = agent::CommandStore::open(dir / "commands", real_clock());
  REQUIRE(store.has_value());
  auto finished = (*store)->find(a);
  REQUIRE(finished.has_value());
  REQUIRE(finished->has_value());
  CHECK((*finished)->state == agent::CommandState::kFinished);
  CHECK_FALSE((*finished)->process.has_value());  // a finished record is format 1 again
}
