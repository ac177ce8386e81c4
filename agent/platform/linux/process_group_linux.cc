// What is left of a command's process group after the agent died: found through /proc, checked
// against the record so that a reused group number is never killed, and killed.
#include <signal.h>

#include <filesystem>
#include <limits>
#include <set>
#include <thread>

#include "agent/platform/linux/process_group.h"
#include "agent/platform/linux/processes.h"
#include "agent/platform/posix/read_file.h"

namespace rmm::agent {
namespace {

constexpr std::size_t kStatMaxBytes = 4096;
constexpr auto kRecheck = std::chrono::milliseconds(20);

std::optional<linux_proc::PidStat> read_stat(const std::filesystem::path& dir) {
  auto text = posix::read_file(dir / "stat", kStatMaxBytes);
  if (!text) return std::nullopt;
  return linux_proc::parse_proc_pid_stat(*text);
}

// A zombie has exited already; only its parent's wait is missing (an init that does not reap,
// in some containers, keeps it for ever).
bool exited(char state) {
  return state == 'Z' || state == 'X';
}

// The pids of the recorded group's processes that still run. Empty when the group is gone, also
// when its number now names another group: the leader's pid pins the group number while the
// leader exists, so a process with that pid and another start time means ours ended.
Result<std::vector<std::uint32_t>> live_members(const platform::ProcessGroupRecord& r) {
  std::vector<std::uint32_t> out;
  if (auto leader = read_stat(std::filesystem::path("/proc") / std::to_string(r.group))) {
    if (leader->start_ticks != r.leader_start) return out;
  }
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc", ec);
  for (const std::filesystem::directory_iterator end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto stat = read_stat(it->path());  // gone meanwhile: not a member any more
    if (!stat || stat->pgrp != r.group || exited(stat->state)) continue;
    // A group cannot span sessions, and every member started after its leader: anything else
    // is not ours.
    if (stat->session != r.session || stat->start_ticks < r.leader_start) continue;
    out.push_back(stat->pid);
  }
  if (ec) return failf("listing /proc: {}", ec.message());
  return out;
}

}  // namespace

Result<platform::ProcessGroupRecord> linux_proc::group_record(std::uint32_t pid) {
  auto text = posix::read_file(std::filesystem::path("/proc") / std::to_string(pid) / "stat",
                               kStatMaxBytes);
  if (!text) return std::unexpected(text.error());
  auto stat = parse_proc_pid_stat(*text);
  if (!stat) return failf("/proc/{}/stat: unreadable", pid);
  return platform::ProcessGroupRecord{
      .group = stat->pgrp, .leader_start = stat->start_ticks, .session = stat->session};
}

Result<platform::LeftoverKill> platform::kill_leftover_group(const ProcessGroupRecord& record,
                                                             std::chrono::milliseconds wait) {
  // Group 0 or 1 would make kill() reach far more than a command.
  if (record.group <= 1 ||
      record.group > static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) {
    return failf("no process group to kill ({})", record.group);
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::set<std::uint32_t> signalled;
  while (true) {
    auto members = live_members(record);
    if (!members) return std::unexpected(members.error());
    if (members->empty()) return LeftoverKill{signalled.size(), 0};
    if (std::chrono::steady_clock::now() >= deadline) {
      return LeftoverKill{signalled.size(), members->size()};
    }
    // By pid, not kill(-group): only what passed the checks above. A member that forks meanwhile
    // has its child found in the next round.
    for (auto pid : *members) {
      if (::kill(static_cast<pid_t>(pid), SIGKILL) == 0) signalled.insert(pid);
    }
    std::this_thread::sleep_for(kRecheck);
  }
}

}  // namespace rmm::agent
