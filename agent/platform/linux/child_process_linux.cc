// ChildProcess on Linux: fork and exec into a new process group, with every signal disposition
// and the signal mask reset (the agent blocks SIGTERM for sigwait) and no descriptor of the agent
// left open but the three standard streams. The child's lifetime is bound to the agent's:
// PR_SET_PDEATHSIG makes the kernel SIGKILL it when the thread that started it ends (the agent
// dying), and a held child waits before exec until the caller has recorded its group.
// fork rather than posix_spawn because the child must run prctl and wait before exec; the agent
// is small (tens of MiB), so copying its page tables costs well under a millisecond.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

#include "agent/platform/linux/process_group.h"
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
  PosixChild(pid_t pid, int out_fd, int err_fd, int go_fd, int report_fd, std::string program)
      : pid_(pid),
        fds_{out_fd, err_fd},
        go_fd_(go_fd),
        report_fd_(report_fd),
        program_(std::move(program)) {}
  ~PosixChild() override {
    close_output();
    close_fd(go_fd_);  // a child still held sees the end of the go-ahead and exits unexec'd
    close_fd(report_fd_);
    if (!exit_) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  Result<ProcessGroupRecord> group_record() const override {
    auto record = linux_proc::group_record(static_cast<std::uint32_t>(pid_));
    if (!record) return std::unexpected(record.error());
    if (record->group != static_cast<std::uint64_t>(pid_)) {
      return failf("process {} is in group {}, not its own", pid_, record->group);
    }
    return record;
  }

  Status release() override {
    if (go_fd_ < 0) return {};
    const char go = 1;
    ssize_t sent = 0;
    do {
      sent = ::send(go_fd_, &go, 1, MSG_NOSIGNAL);  // no SIGPIPE if the child is gone
    } while (sent < 0 && errno == EINTR);
    close_fd(go_fd_);
    // The report pipe closes on a successful exec (O_CLOEXEC) or carries exec's errno.
    int error = 0;
    ssize_t got = 0;
    do {
      got = ::read(report_fd_, &error, sizeof error);
    } while (got < 0 && errno == EINTR);
    close_fd(report_fd_);
    if (got == static_cast<ssize_t>(sizeof error)) {
      return failf("starting {}: {}", program_, std::strerror(error));
    }
    if (sent != 1) return failf("starting {}: the process ended before it ran", program_);
    return {};
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
  int go_fd_;      // socket to the held child: one byte lets it exec
  int report_fd_;  // exec's errno when it failed; closed by a successful exec
  std::string program_;
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

// Everything the child needs, prepared before fork: after it, only async-signal-safe calls.
struct ChildPlan {
  char* const* argv;
  char* const* envp;
  const char* working_dir;
  int out, err;  // write ends for stdout and stderr
  int go;        // read end: one byte, then exec
  int report;    // write end: exec's errno
  pid_t parent;
};

void close_fds(unsigned from, unsigned to) {
  if (from > to) return;
  if (::close_range(from, to, 0) == 0) return;
  for (unsigned fd = from; fd <= to && fd < 65536; ++fd)
    ::close(static_cast<int>(fd));  // old kernel
}

// In the child: reports why it cannot run the program, and exits.
[[noreturn]] void child_failed(int report_fd, int error) {
  (void)!::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

[[noreturn]] void run_child(const ChildPlan& p) {
  ::setpgid(0, 0);
  // SIGKILL when the agent's thread that started us ends; if the agent is gone already, our
  // parent changed before the prctl could take effect.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_failed(p.report, errno);
  if (::getppid() != p.parent) ::_exit(127);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // SIGKILL etc.: EINVAL
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(p.out, 1) < 0 || ::dup2(p.err, 2) < 0) {
    child_failed(p.report, errno);
  }
  // Only the standard streams and the two control descriptors stay open: nothing of the agent
  // reaches the command, and another command's pipes are not held open while this one waits.
  const unsigned lo = static_cast<unsigned>(std::min(p.go, p.report));
  const unsigned hi = static_cast<unsigned>(std::max(p.go, p.report));
  close_fds(3, lo - 1);
  close_fds(lo + 1, hi - 1);
  close_fds(hi + 1, ~0U);
  if (::chdir(p.working_dir) != 0) child_failed(p.report, errno);
  char go = 0;
  ssize_t got = 0;
  do {
    got = ::read(p.go, &go, 1);
  } while (got < 0 && errno == EINTR);
  if (got != 1) ::_exit(127);  // never released: the agent gave up on us, or died
  ::close(p.go);
  ::execve(p.argv[0], p.argv, p.envp);
  child_failed(p.report, errno);
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const SpawnSpec& spec) {
  if (spec.argv.empty() || !spec.argv[0].starts_with('/')) {
    return fail(Error::Code::kInvalidInput, "the program must be an absolute path");
  }
  if (!spec.working_dir.starts_with('/')) {
    return fail(Error::Code::kInvalidInput, "the working directory must be an absolute path");
  }
  // Checked first so the common mistakes fail with a plain reason before anything is started.
  struct stat st {};
  if (::stat(spec.working_dir.c_str(), &st) != 0) {
    return failf("working directory {}: {}", spec.working_dir, std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return failf("working directory {}: not a directory", spec.working_dir);
  if (!is_executable_file(spec.argv[0])) {
    return failf("{}: not an executable file", spec.argv[0]);
  }
  Pipe out, err, go, report;
  if (::pipe2(out.fds, O_CLOEXEC) != 0 || ::pipe2(err.fds, O_CLOEXEC) != 0 ||
      ::pipe2(report.fds, O_CLOEXEC) != 0 ||
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go.fds) != 0) {
    return failf("pipe: {}", std::strerror(errno));
  }
  std::vector<char*> args;
  args.reserve(spec.argv.size() + 1);
  for (const auto& a : spec.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  env.reserve(spec.env.size() + 1);
  for (const auto& e : spec.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  const ChildPlan plan{.argv = args.data(),
                       .envp = env.data(),
                       .working_dir = spec.working_dir.c_str(),
                       .out = out.fds[1],
                       .err = err.fds[1],
                       .go = go.fds[0],
                       .report = report.fds[1],
                       .parent = ::getpid()};

  const pid_t pid = ::fork();
  if (pid < 0) return failf("starting {}: fork: {}", spec.argv[0], std::strerror(errno));
  if (pid == 0) run_child(plan);
  // Also here, so the group exists before the caller records or signals it.
  ::setpgid(pid, pid);
  for (int* fd : {&out.fds[1], &err.fds[1], &go.fds[0], &report.fds[1]}) close_fd(*fd);
  for (int fd : {out.fds[0], err.fds[0]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  auto child = std::make_unique<PosixChild>(pid, out.fds[0], err.fds[0], go.fds[1], report.fds[0],
                                            spec.argv[0]);
  out.fds[0] = err.fds[0] = go.fds[1] = report.fds[0] = -1;
  if (!spec.held) {
    if (auto st = child->release(); !st) return std::unexpected(st.error());
  }
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
