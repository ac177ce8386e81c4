#include "agent/platform/posix/capture_output.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rmm::agent::posix {
namespace {

// Closes the descriptors it owns on every return path.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

Result<CaptureResult> capture_output(const std::vector<std::string>& argv,
                                     std::chrono::milliseconds timeout, std::size_t max_output) {
  if (argv.empty() || !argv[0].starts_with('/')) {
    return fail(Error::Code::kInvalidInput, "capture_output needs an absolute program path");
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return failf("pipe: {}", std::strerror(errno));
  Fd read_end{pipe_fds[0]};
  Fd write_end{pipe_fds[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);  // the agent blocks SIGTERM for sigwait
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char env_lc[] = "LC_ALL=C";
  char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char env_color[] = "SYSTEMD_COLORS=0";
  char* env[] = {env_lc, env_path, env_color, nullptr};

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return failf("starting {}: {}", argv[0], std::strerror(rc));
  ::close(write_end.fd);
  write_end.fd = -1;

  CaptureResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(-pid, SIGKILL);
      wait_exit(pid);
      return fail(Error::Code::kTimeout,
                  fmt::format("{} did not finish within {} ms", argv[0], timeout.count()));
    }
    pollfd p{read_end.fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;  // the deadline check above ends it
    ssize_t got = ::read(read_end.fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    const auto room = max_output - result.output.size();
    const auto take = std::min(room, static_cast<std::size_t>(got));
    result.output.append(buf, take);
    if (take < static_cast<std::size_t>(got)) result.truncated = true;
  }
  result.exit_code = wait_exit(pid);
  return result;
}

}  // namespace rmm::agent::posix
