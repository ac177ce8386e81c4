#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "watchdog/platform/process_control.h"

namespace rmm::watchdog {
namespace {

class LinuxProcessControl final : public ProcessControl {
 public:
  Result<pid_t> start(const std::vector<std::string>& argv,
                      const std::filesystem::path& log_file) override {
    if (argv.empty()) return fail("no program");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::string log = log_file.string();
    int exec_error[2];
    if (::pipe2(exec_error, O_CLOEXEC) != 0) return failf("pipe: {}", std::strerror(errno));
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
      ::close(exec_error[0]);
      ::close(exec_error[1]);
      return failf("fork: {}", std::strerror(errno));
    }
    if (pid == 0) {
      // The agent must not outlive a watchdog that was killed outright.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
      sigset_t none;
      ::sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the watchdog blocks its shutdown signals
      if (!log.empty()) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
          ::dup2(fd, 1);
          ::dup2(fd, 2);
          ::close(fd);
        }
      }
      ::execv(args[0], args.data());
      int e = errno;
      (void)!::write(exec_error[1], &e, sizeof(e));
      ::_exit(127);
    }
    ::close(exec_error[1]);
    int e = 0;
    ssize_t n = ::read(exec_error[0], &e, sizeof(e));
    ::close(exec_error[0]);
    if (n == sizeof(e)) {
      ::waitpid(pid, nullptr, 0);
      return failf("starting {}: {}", argv[0], std::strerror(e));
    }
    return pid;
  }

  std::optional<ExitInfo> poll_exit(pid_t pid) override {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == 0) return std::nullopt;
    if (r < 0) return ExitInfo{-1, 0};  // not our child any more: gone
    if (WIFSIGNALED(status)) return ExitInfo{-1, WTERMSIG(status)};
    return ExitInfo{WEXITSTATUS(status), 0};
  }

  void terminate(pid_t pid) override { ::kill(pid, SIGTERM); }
  void kill(pid_t pid) override { ::kill(pid, SIGKILL); }

  Result<ProcessUsage> usage(pid_t pid) override {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return failf("/proc/{}/stat unreadable", pid);
    auto close = line.rfind(')');
    if (close == std::string::npos) return fail("bad /proc stat line");
    std::istringstream in(line.substr(close + 2));
    // Fields from 3 (state) on; utime and stime are fields 14 and 15, rss (pages) field 24.
    std::string field;
    unsigned long long utime = 0, stime = 0, rss_pages = 0;
    for (int i = 3; i <= 24 && in >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
      if (i == 24) rss_pages = std::stoull(field);
    }
    long ticks = ::sysconf(_SC_CLK_TCK);
    long page = ::sysconf(_SC_PAGESIZE);
    ProcessUsage u;
    u.rss_bytes = rss_pages * static_cast<unsigned long long>(page > 0 ? page : 4096);
    u.cpu_time = std::chrono::nanoseconds((utime + stime) * 1'000'000'000ull /
                                          static_cast<unsigned long long>(ticks > 0 ? ticks : 100));
    return u;
  }
};

}  // namespace

Result<std::unique_ptr<ProcessControl>> make_process_control() {
  return std::make_unique<LinuxProcessControl>();
}

}  // namespace rmm::watchdog
