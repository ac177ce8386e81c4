#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/platform/detached.h"

namespace rmm::agent::platform {

Status spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log_file) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return fail("spawn_detached needs an absolute program path");
  }
  if (::access(argv[0].c_str(), X_OK) != 0) {
    return failf("{} is not executable: {}", argv[0], std::strerror(errno));
  }
  // Everything the children need is prepared before fork: only async-signal-safe calls after.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string log = log_file.string();
  int exec_error[2];
  if (::pipe2(exec_error, O_CLOEXEC) != 0) return failf("pipe: {}", std::strerror(errno));
  pid_t first = ::fork();
  if (first < 0) {
    ::close(exec_error[0]);
    ::close(exec_error[1]);
    return failf("fork: {}", std::strerror(errno));
  }
  if (first == 0) {
    // The intermediate child: a new session, then a grandchild that init adopts, so the helper
    // survives the agent and is never the agent's zombie.
    ::setsid();
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the agent blocks its shutdown signals
    pid_t second = ::fork();
    if (second != 0) ::_exit(second < 0 ? 1 : 0);
    int null_fd = ::open("/dev/null", O_RDONLY);
    int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    for (int fd = 3; fd < 1024; ++fd) {
      if (fd != exec_error[1]) ::close(fd);
    }
    ::execv(args[0], args.data());
    int e = errno;
    (void)!::write(exec_error[1], &e, sizeof(e));
    ::_exit(127);
  }
  ::close(exec_error[1]);
  int status = 0;
  ::waitpid(first, &status, 0);
  int e = 0;
  ssize_t n = ::read(exec_error[0], &e, sizeof(e));
  ::close(exec_error[0]);
  if (n == sizeof(e)) return failf("starting {}: {}", argv[0], std::strerror(e));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return failf("starting {} failed", argv[0]);
  return {};
}

Result<std::filesystem::path> current_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return failf("/proc/self/exe: {}", ec.message());
  return p;
}

}  // namespace rmm::agent::platform
