// kill_process on Linux: a pidfd pins the process, its comm is checked, then SIGTERM and, when it
// outlives the grace period, SIGKILL.
#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "agent/platform/process.h"

namespace rmm::agent::platform {
namespace {

// A pidfd, closed on every return.
class PidFd {
 public:
  explicit PidFd(int fd) : fd_(fd) {}
  PidFd(const PidFd&) = delete;
  PidFd& operator=(const PidFd&) = delete;
  ~PidFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The kernel's name of the process ("" when it is gone), and whether it has ended (a zombie
// waiting for its parent has ended too: it runs nothing any more).
struct ProcState {
  std::string comm;
  bool ended = true;
};

ProcState read_state(std::uint32_t pid) {
  ProcState out;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text;
  if (!std::getline(stat, text)) return out;
  // "pid (comm) state ...": comm may hold anything, parentheses included.
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  out.comm = text.substr(open + 1, close - open - 1);
  const char state = close + 2 < text.size() ? text[close + 2] : 'X';
  out.ended = state == 'Z' || state == 'X' || state == 'x';
  return out;
}

int pidfd_open(std::uint32_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
}

int pidfd_signal(int fd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0));
}

}  // namespace

Result<std::string> kill_process(std::uint32_t pid, std::string_view name,
                                 std::chrono::milliseconds grace) {
  if (pid <= 1) return fail(Error::Code::kInvalidInput, "pid 0 and 1 are never stopped");
  if (static_cast<pid_t>(pid) == ::getpid()) {
    return fail(Error::Code::kInvalidInput, "the agent does not stop itself");
  }
  PidFd fd(pidfd_open(pid));
  if (fd.get() < 0) {
    if (errno == ESRCH) return fail(Error::Code::kNotFound, fmt::format("no process {}", pid));
    return failf("pidfd_open({}): {}", pid, std::strerror(errno));
  }
  // Checked after the pidfd is open: the fd names this process even if the pid is reused later.
  const auto before = read_state(pid);
  if (before.ended) return fail(Error::Code::kNotFound, fmt::format("no process {}", pid));
  if (before.comm != name) {
    return fail(Error::Code::kConflict, fmt::format("process {} is now '{}', not '{}': left alone",
                                                    pid, before.comm, name));
  }
  if (pidfd_signal(fd.get(), SIGTERM) != 0) {
    if (errno == ESRCH) return fmt::format("process {} ({}) had already ended\n", pid, name);
    return failf("SIGTERM to process {}: {}", pid, std::strerror(errno));
  }
  // Bounded wait for it to end; the pidfd keeps the pid from being reused meanwhile only while
  // the process is unreaped, so each check also rereads its state through the pid.
  const auto step = std::chrono::milliseconds(50);
  for (auto waited = std::chrono::milliseconds(0); waited < grace; waited += step) {
    std::this_thread::sleep_for(step);
    if (read_state(pid).ended) return fmt::format("process {} ({}) stopped (SIGTERM)\n", pid, name);
  }
  if (pidfd_signal(fd.get(), SIGKILL) != 0 && errno != ESRCH) {
    return failf("SIGKILL to process {}: {}", pid, std::strerror(errno));
  }
  return fmt::format("process {} ({}) did not stop within {} ms of SIGTERM: killed (SIGKILL)\n",
                     pid, name, grace.count());
}

}  // namespace rmm::agent::platform
