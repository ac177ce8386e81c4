#include "api/install/run_tool.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rmm::api::install {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

Result<ToolResult> run_tool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                            std::size_t max_output) {
  if (argv.empty() || !argv[0].starts_with('/')) {
    return fail(Error::Code::kInvalidInput, "run_tool needs an absolute program path");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return failf("pipe: {}", std::strerror(errno));
  Fd read_end{fds[0]};
  Fd write_end{fds[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 2);
  // The API's sockets and files are none of the helper's business.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&attr, &all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);  // rmm-api blocks SIGTERM/SIGINT for its sigwait
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char env_lc[] = "LC_ALL=C";
  char* env[] = {env_lc, nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return fail(rc == ENOENT || rc == EACCES ? Error::Code::kNotFound : Error::Code::kGeneric,
                fmt::format("starting {}: {}", argv[0], std::strerror(rc)));
  }
  write_end.reset();

  ToolResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(-pid, SIGKILL);
      wait_exit(pid);
      return fail(Error::Code::kTimeout,
                  fmt::format("{} did not finish within {} ms", argv[0], timeout.count()));
    }
    pollfd p{read_end.fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0) continue;  // EINTR, or the deadline (checked above)
    const ssize_t got = ::read(read_end.fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // every writer closed it: the program ended (or closed its outputs)
    const std::size_t take = std::min(max_output - result.output.size(), std::size_t(got));
    result.output.append(buf, take);
  }
  // The output closed; the exit itself is still bounded by the deadline.
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return result;
    }
    if (done < 0 && errno != EINTR) return failf("waitpid: {}", std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      wait_exit(pid);
      return fail(Error::Code::kTimeout,
                  fmt::format("{} did not exit within {} ms", argv[0], timeout.count()));
    }
    ::usleep(5'000);
  }
}

}  // namespace rmm::api::install
