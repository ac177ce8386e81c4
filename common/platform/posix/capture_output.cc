#include "common/platform/posix/capture_output.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rmm::posix {
namespace {

// Closes the descriptor it owns on every return path.
struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

void kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

Result<pid_t> spawn(const std::vector<std::string>& argv, const CaptureOptions& o, int out_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  if (o.with_stderr) {
    posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  // The caller's sockets and files are none of the program's business.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&attr, &all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const auto& e : o.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return fail(rc == ENOENT || rc == EACCES ? Error::Code::kNotFound : Error::Code::kGeneric,
                fmt::format("starting {}: {}", argv[0], std::strerror(rc)));
  }
  return pid;
}

}  // namespace

Result<CaptureResult> capture_output(const std::vector<std::string>& argv,
                                     const CaptureOptions& options) {
  if (argv.empty() || !argv[0].starts_with('/')) {
    return fail(Error::Code::kInvalidInput, "capture_output needs an absolute program path");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return failf("pipe: {}", std::strerror(errno));
  Fd read_end{fds[0]};
  Fd write_end{fds[1]};
  auto pid = spawn(argv, options, write_end.fd);
  if (!pid) return std::unexpected(pid.error());
  write_end.reset();

  CaptureResult result;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  auto timed_out = [&](std::string_view what) {
    kill_and_reap(*pid);
    return fail(Error::Code::kTimeout,
                fmt::format("{} did not {} within {} ms", argv[0], what, options.timeout.count()));
  };
  char buf[8192];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return timed_out("finish");
    pollfd p{read_end.fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;  // EINTR or the deadline
    const ssize_t got = ::read(read_end.fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // every writer closed it: the program ended (or closed its outputs)
    const auto take = std::min(options.max_output - result.output.size(), std::size_t(got));
    result.output.append(buf, take);
    if (take < std::size_t(got)) result.truncated = true;
  }
  // The output closed; the exit itself is still bounded by the deadline.
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(*pid, &status, WNOHANG);
    if (done == *pid) {
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return result;
    }
    if (done < 0 && errno != EINTR) return failf("waitpid: {}", std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) return timed_out("exit");
    ::usleep(5'000);
  }
}

}  // namespace rmm::posix
