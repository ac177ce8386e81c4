#include "common/agent_local.h"

#include <fmt/format.h>

#include <charconv>

#include "common/files.h"

namespace rmm::local {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> field(std::string_view text, std::string_view key) {
  std::string prefix = std::string(key) + "=";
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (line.starts_with(prefix)) return std::string(line.substr(prefix.size()));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return std::nullopt;
}

std::optional<pid_t> pid_field(std::string_view text) {
  auto v = field(text, "pid");
  if (!v) return std::nullopt;
  pid_t pid = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), pid);
  if (ec != std::errc() || p != v->data() + v->size() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

fs::path health_path(const fs::path& state_dir) {
  return state_dir / "agent.health";
}
fs::path update_lock_path(const fs::path& state_dir) {
  return state_dir / "update.lock";
}
fs::path crash_loop_path(const fs::path& state_dir) {
  return state_dir / "watchdog.crashloop";
}

fs::path watchdog_pid_path(const fs::path& state_dir) {
  return state_dir / "watchdog.pid";
}

fs::path nats_ca_path(const fs::path& state_dir) {
  return state_dir / "ca.pem";
}

std::string agent_nats_ca(const fs::path& state_dir, const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  fs::path enrolled = nats_ca_path(state_dir);
  return fs::exists(enrolled, ec) ? enrolled.string() : std::string();
}

Status write_pid_file(const fs::path& path, pid_t pid) {
  return files::write_atomic(path, fmt::format("pid={}\n", pid));
}

std::optional<pid_t> live_pid(const fs::path& path) {
  auto text = files::read_all(path);
  if (!text) return std::nullopt;
  auto pid = pid_field(*text);
  if (!pid || !process_alive(*pid)) return std::nullopt;
  return pid;
}

Status write_health(const fs::path& state_dir, std::string_view version, pid_t pid) {
  return files::write_replace(health_path(state_dir),
                              fmt::format("version={}\npid={}\n", version, pid));
}

std::optional<Health> read_health(const fs::path& state_dir) {
  auto path = health_path(state_dir);
  std::error_code ec;
  auto written = fs::last_write_time(path, ec);
  if (ec) return std::nullopt;
  auto text = files::read_all(path);
  if (!text) return std::nullopt;
  auto version = field(*text, "version");
  auto pid = pid_field(*text);
  if (!version || !pid) return std::nullopt;
  return Health{*version, *pid, written};
}

std::optional<std::chrono::milliseconds> health_age(const fs::path& state_dir) {
  std::error_code ec;
  auto written = fs::last_write_time(health_path(state_dir), ec);
  if (ec) return std::nullopt;
  auto age = fs::file_time_type::clock::now() - written;
  return std::chrono::duration_cast<std::chrono::milliseconds>(age);
}

Status write_update_lock(const fs::path& state_dir, const UpdateLock& lock) {
  return files::write_atomic(
      update_lock_path(state_dir),
      fmt::format("pid={}\nphase={}\ncycle={}\n", lock.pid,
                  lock.phase == UpdatePhase::kStop ? "stop" : "start", lock.cycle));
}

std::optional<UpdateLock> read_update_lock(const fs::path& state_dir) {
  auto text = files::read_all(update_lock_path(state_dir));
  if (!text) return std::nullopt;
  auto pid = pid_field(*text);
  auto phase = field(*text, "phase");
  if (!pid || !phase || !process_alive(*pid)) return std::nullopt;
  std::uint64_t cycle = 0;
  if (auto c = field(*text, "cycle")) std::from_chars(c->data(), c->data() + c->size(), cycle);
  return UpdateLock{*pid, *phase == "start" ? UpdatePhase::kStart : UpdatePhase::kStop, cycle};
}

void remove_update_lock(const fs::path& state_dir) {
  std::error_code ec;
  fs::remove(update_lock_path(state_dir), ec);  // ignored: a missing lock is the goal
}

}  // namespace rmm::local
