// Files in the agent's state dir through which rmm-agent, rmm-watchdog and rmm-updater cooperate
// on one machine (Linux layout; docs/updates.md):
// - `agent.health`: the running agent's version and pid, rewritten from its main loop at least
//   once a second. Its modification time is the liveness signal; its version the health signal
//   after an update.
// - `update.lock`: held by rmm-updater while it replaces the agent. Phase "stop": the watchdog
//   keeps the agent stopped and does not count its exit as a crash; phase "start": the watchdog
//   starts the agent (new backoff and crash history) and the updater waits for health. A lock
//   whose pid is gone is stale and ignored.
// - `watchdog.pid`: the supervising rmm-watchdog's pid (the updater needs a live supervisor).
// - `watchdog.crashloop`: written by the watchdog when it detects a crash loop, so an updater
//   waiting for health rolls back at once.
// - `ca.pem`: the CA of the installation's NATS server, written by `rmm-agent enroll --ca-file`;
//   rmm-agent and rmm-updater pin it (docs/agent.md).
//
// Concurrency: each file has one writer; readers tolerate a missing or half-old file (every
// write is a rename of a complete temp file).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/result.h"

namespace rmm::local {

struct Health {
  std::string version;
  pid_t pid = 0;
  std::filesystem::file_time_type written;  // the liveness signal
};

enum class UpdatePhase { kStop, kStart };

struct UpdateLock {
  pid_t pid = 0;
  UpdatePhase phase = UpdatePhase::kStop;
  // Incremented by the updater at each start (the new binary, then maybe the restored one), so
  // the watchdog starts each with a fresh history even if it never saw the stop in between.
  std::uint64_t cycle = 0;
};

std::filesystem::path health_path(const std::filesystem::path& state_dir);
std::filesystem::path update_lock_path(const std::filesystem::path& state_dir);
std::filesystem::path crash_loop_path(const std::filesystem::path& state_dir);
std::filesystem::path watchdog_pid_path(const std::filesystem::path& state_dir);
std::filesystem::path nats_ca_path(const std::filesystem::path& state_dir);

// The CA an agent-side program pins for NATS: `configured` (the nats-ca setting) when set, else
// <state-dir>/ca.pem when it exists, else none (plaintext, to a loopback URL only).
std::string agent_nats_ca(const std::filesystem::path& state_dir, const std::string& configured);

Status write_pid_file(const std::filesystem::path& path, pid_t pid);
// The pid in the file, if the file is readable and that process alive.
std::optional<pid_t> live_pid(const std::filesystem::path& path);

// Rename of a temp file without fsync: liveness needs no durability, and this runs every second.
Status write_health(const std::filesystem::path& state_dir, std::string_view version, pid_t pid);
std::optional<Health> read_health(const std::filesystem::path& state_dir);
// How long ago the health file was written (nullopt when missing).
std::optional<std::chrono::milliseconds> health_age(const std::filesystem::path& state_dir);

Status write_update_lock(const std::filesystem::path& state_dir, const UpdateLock& lock);
// The lock, if present and its holder alive.
std::optional<UpdateLock> read_update_lock(const std::filesystem::path& state_dir);
void remove_update_lock(const std::filesystem::path& state_dir);

// True while `pid` exists and is not a zombie (Linux: /proc/<pid>/stat).
bool process_alive(pid_t pid);
// True while `pid` exists at all, zombies included (its parent has not reaped it yet).
bool process_exists(pid_t pid);

}  // namespace rmm::local
