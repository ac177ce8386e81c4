// ChildProcess on Linux: posix_spawn (no fork of the agent's address space) into a new process
// group, with the signal mask and dispositions reset (the agent blocks SIGTERM for sigwait).
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/platform/process.h"

namespace rmm::agent::platform {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Whether a process of group `pgid` other than a zombie exists (/proc/<pid>/stat: the state is
// the first field after the command name's last ')', the process group the third).
bool group_has_live_member(pid_t pgid) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end;
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(it->path() / "stat");
    std::string text;
    if (!std::getline(in, text)) continue;
    auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 1));
    char state = '?';
    long ppid = 0, pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp)) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') return true;
  }
  return false;
}

class PosixChild final : public ChildProcess {
 public:
  PosixChild(pid_t pid, int out_fd, int err_fd) : pid_(pid), fds_{out_fd, err_fd} {}
  ~PosixChild() override {
    close_output();
    if (!exit_) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  std::uint32_t pid() const override { return static_cast<std::uint32_t>(pid_); }

  bool read_some(std::chrono::milliseconds wait, std::size_t max_bytes, std::string& out,
                 std::string& err) override {
    pollfd p[2];
    int n = 0;
    int index[2];
    for (int i = 0; i < 2; ++i) {
      if (fds_[i] < 0) continue;
      p[n] = pollfd{fds_[i], POLLIN, 0};
      index[n++] = i;
    }
    if (n == 0) return false;
    int ready = ::poll(p, static_cast<nfds_t>(n), static_cast<int>(wait.count()));
    if (ready <= 0) return true;  // timeout or EINTR: the caller loops
    char buf[16 * 1024];
    for (int k = 0; k < n; ++k) {
      if ((p[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      int i = index[k];
      std::string& target = i == 0 ? out : err;
      std::size_t taken = 0;
      // Bounded per call so one chatty stream cannot starve the other or the deadline checks.
      while (taken < max_bytes) {
        ssize_t got = ::read(fds_[i], buf, std::min(sizeof buf, max_bytes - taken));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && errno == EAGAIN) break;
        if (got <= 0) {
          close_fd(fds_[i]);
          break;
        }
        target.append(buf, static_cast<std::size_t>(got));
        taken += static_cast<std::size_t>(got);
      }
    }
    return fds_[0] >= 0 || fds_[1] >= 0;
  }

  void close_output() override {
    close_fd(fds_[0]);
    close_fd(fds_[1]);
  }

  std::optional<ExitStatus> poll_exit() override {
    if (exit_) return exit_;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r != pid_) return std::nullopt;
    ExitStatus s;
    if (WIFEXITED(status)) {
      s.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      s.term_signal = WTERMSIG(status);
    }
    exit_ = s;
    return exit_;
  }

  void terminate_group() override { ::kill(-pid_, SIGTERM); }
  void kill_group() override { ::kill(-pid_, SIGKILL); }
  // kill(-pgid, 0) also succeeds for zombies, which an init that does not reap (containers)
  // keeps forever: look for a member that is not one.
  bool group_alive() const override {
    if (::kill(-pid_, 0) != 0 && errno != EPERM) return false;
    return group_has_live_member(pid_);
  }

 private:
  pid_t pid_;
  int fds_[2];
  std::optional<ExitStatus> exit_;
};

struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    close_fd(fds[0]);
    close_fd(fds[1]);
  }
};

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const SpawnSpec& spec) {
  if (spec.argv.empty() || !spec.argv[0].starts_with('/')) {
    return fail(Error::Code::kInvalidInput, "the program must be an absolute path");
  }
  if (!spec.working_dir.starts_with('/')) {
    return fail(Error::Code::kInvalidInput, "the working directory must be an absolute path");
  }
  // posix_spawn reports a failed chdir or exec only as exit status 127: check both first so the
  // command fails with a reason instead of "completed with 127".
  struct stat st {};
  if (::stat(spec.working_dir.c_str(), &st) != 0) {
    return failf("working directory {}: {}", spec.working_dir, std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return failf("working directory {}: not a directory", spec.working_dir);
  if (!is_executable_file(spec.argv[0])) {
    return failf("{}: not an executable file", spec.argv[0]);
  }
  Pipe out, err;
  if (::pipe2(out.fds, O_CLOEXEC) != 0 || ::pipe2(err.fds, O_CLOEXEC) != 0) {
    return failf("pipe: {}", std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fds[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, spec.working_dir.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  args.reserve(spec.argv.size() + 1);
  for (const auto& a : spec.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  env.reserve(spec.env.size() + 1);
  for (const auto& e : spec.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return failf("starting {}: {}", spec.argv[0], std::strerror(rc));
  close_fd(out.fds[1]);
  close_fd(err.fds[1]);
  for (int fd : {out.fds[0], err.fds[0]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  auto child = std::make_unique<PosixChild>(pid, out.fds[0], err.fds[0]);
  out.fds[0] = -1;
  err.fds[0] = -1;
  return std::unique_ptr<ChildProcess>(std::move(child));
}

Result<std::string> find_program(std::string_view name, std::string_view path_var) {
  if (name.empty()) return fail(Error::Code::kInvalidInput, "no program named");
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    if (!path.starts_with('/')) {
      return fail(Error::Code::kInvalidInput, fmt::format("{}: not an absolute path", name));
    }
    if (!is_executable_file(path)) {
      return fail(Error::Code::kNotFound, fmt::format("{}: not an executable file", name));
    }
    return path;
  }
  std::size_t start = 0;
  while (start <= path_var.size()) {
    auto end = path_var.find(':', start);
    if (end == std::string_view::npos) end = path_var.size();
    auto dir = path_var.substr(start, end - start);
    if (dir.starts_with('/')) {
      std::string candidate = fmt::format("{}/{}", dir, name);
      if (is_executable_file(candidate)) return candidate;
    }
    start = end + 1;
  }
  return fail(Error::Code::kNotFound, fmt::format("{} not found in PATH {}", name, path_var));
}

std::vector<std::string> base_environment() {
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LANG=C.UTF-8",
  };
  const char* home = std::getenv("HOME");
  env.push_back(fmt::format("HOME={}", home != nullptr && *home == '/' ? home : "/"));
  return env;
}

}  // namespace rmm::agent::platform
