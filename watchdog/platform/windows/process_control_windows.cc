#include <chrono>
#include <map>
#include <mutex>

#include "common/platform/windows/command_line.h"
#include "common/platform/windows/stop_event.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "watchdog/platform/process_control.h"

// After windows_api.h: these need <windows.h>'s types.
#include <psapi.h>

namespace rmm::watchdog {
namespace {

// TerminateProcess's exit code: what the service control manager reports for a process that
// "terminated unexpectedly", so a killed agent reads the same in every Windows tool.
constexpr UINT kKilledExitCode = ERROR_PROCESS_ABORTED;

class Handle {
 public:
  Handle() = default;
  explicit Handle(HANDLE h) : h_(h) {}
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~Handle() {
    if (h_ != nullptr && h_ != INVALID_HANDLE_VALUE) ::CloseHandle(h_);
  }
  HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr && h_ != INVALID_HANDLE_VALUE; }

 private:
  HANDLE h_ = nullptr;
};

// An inheritable duplicate of one of our standard handles, or none when we have none (a service).
Handle inheritable_std_handle(DWORD which) {
  HANDLE own = ::GetStdHandle(which);
  if (own == nullptr || own == INVALID_HANDLE_VALUE) return {};
  HANDLE dup = nullptr;
  if (!::DuplicateHandle(::GetCurrentProcess(), own, ::GetCurrentProcess(), &dup, 0, TRUE,
                         DUPLICATE_SAME_ACCESS)) {
    return {};
  }
  return Handle(dup);
}

Result<Handle> open_log(const std::filesystem::path& log_file) {
  SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};
  // FILE_APPEND_DATA without FILE_WRITE_DATA: every write lands at the end, even when the
  // watchdog writes to the same file.
  HANDLE h = ::CreateFileW(log_file.wstring().c_str(), FILE_APPEND_DATA | SYNCHRONIZE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa, OPEN_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    return std::unexpected(rmm::win::last_error(fmt::format("opening {}", log_file.string())));
  }
  return Handle(h);
}

std::chrono::nanoseconds filetime_duration(const FILETIME& t) {
  const auto ticks = (static_cast<std::uint64_t>(t.dwHighDateTime) << 32) | t.dwLowDateTime;
  return std::chrono::nanoseconds(ticks * 100);  // FILETIME counts 100 ns
}

// Supervises the agent as a child process in a job object.
//
// The job is the Windows counterpart of Linux's PR_SET_PDEATHSIG: it kills its processes when its
// last handle closes, so an agent does not outlive a watchdog that was killed outright. It allows
// breakaway, so the agent can start rmm-updater outside it (the updater must outlive the agent).
// The child gets no console window (CREATE_NO_WINDOW): under the service control manager there is
// no console to share, and in a console run Ctrl+C then stops the watchdog, which stops the agent
// the one polite way (its stop event, common/platform/windows/stop_event.h).
//
// Concurrency: one supervisor thread; the mutex only guards the table against misuse.
// Limitations: ExitInfo::signal is always 0; a killed agent exits with kKilledExitCode, a crash
// with its NTSTATUS code (negative as an int).
class WindowsProcessControl final : public ProcessControl {
 public:
  explicit WindowsProcessControl(Handle job) : job_(std::move(job)) {}

  Result<pid_t> start(const std::vector<std::string>& argv,
                      const std::filesystem::path& log_file) override {
    if (argv.empty()) return fail("no program");
    auto program = rmm::win::to_wide(argv[0]);
    if (!program) return std::unexpected(program.error());
    auto line = rmm::win::build_command_line(argv);
    if (!line) return std::unexpected(line.error());

    Handle out, err;
    if (!log_file.empty()) {
      auto log = open_log(log_file);
      if (!log) return std::unexpected(log.error());
      out = std::move(*log);
    } else {
      out = inheritable_std_handle(STD_OUTPUT_HANDLE);
      err = inheritable_std_handle(STD_ERROR_HANDLE);
    }
    HANDLE out_h = out.get();
    HANDLE err_h = log_file.empty() ? err.get() : out.get();
    // Only these handles are inherited, not every inheritable handle the watchdog holds.
    HANDLE inherit[2];
    DWORD n_inherit = 0;
    if (out_h != nullptr) inherit[n_inherit++] = out_h;
    if (err_h != nullptr && err_h != out_h) inherit[n_inherit++] = err_h;

    SIZE_T attr_size = 0;
    ::InitializeProcThreadAttributeList(nullptr, 1, 0, &attr_size);
    std::vector<unsigned char> attr_buffer(attr_size);
    auto* attrs = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attr_buffer.data());
    if (!::InitializeProcThreadAttributeList(attrs, 1, 0, &attr_size)) {
      return std::unexpected(rmm::win::last_error("InitializeProcThreadAttributeList"));
    }
    struct AttrListGuard {
      LPPROC_THREAD_ATTRIBUTE_LIST list;
      ~AttrListGuard() { ::DeleteProcThreadAttributeList(list); }
    } guard{attrs};
    if (n_inherit > 0 &&
        !::UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit,
                                     n_inherit * sizeof(HANDLE), nullptr, nullptr)) {
      return std::unexpected(rmm::win::last_error("UpdateProcThreadAttribute"));
    }

    STARTUPINFOEXW si{};
    si.StartupInfo.cb = sizeof(si);
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = nullptr;
    si.StartupInfo.hStdOutput = out_h;
    si.StartupInfo.hStdError = err_h;
    si.lpAttributeList = attrs;
    PROCESS_INFORMATION pi{};
    // Suspended until it is in the job, so nothing it starts escapes the job.
    const DWORD flags = CREATE_SUSPENDED | CREATE_NO_WINDOW | CREATE_UNICODE_ENVIRONMENT |
                        EXTENDED_STARTUPINFO_PRESENT;
    if (!::CreateProcessW(program->c_str(), line->data(), nullptr, nullptr, n_inherit > 0, flags,
                          nullptr, nullptr, &si.StartupInfo, &pi)) {
      return std::unexpected(rmm::win::last_error(fmt::format("starting {}", argv[0])));
    }
    Handle process(pi.hProcess);
    Handle thread(pi.hThread);
    if (!::AssignProcessToJobObject(job_.get(), process.get())) {
      auto error = rmm::win::last_error("adding the agent to the watchdog's job");
      ::TerminateProcess(process.get(), kKilledExitCode);
      return std::unexpected(error);
    }
    ::ResumeThread(thread.get());
    const auto pid = static_cast<pid_t>(pi.dwProcessId);
    std::lock_guard lock(mutex_);
    children_[pid] = Child{std::move(process), false};
    return pid;
  }

  std::optional<ExitInfo> poll_exit(pid_t pid) override {
    std::lock_guard lock(mutex_);
    auto it = children_.find(pid);
    if (it == children_.end()) return ExitInfo{-1, 0};  // not our child: gone
    Child& child = it->second;
    if (::WaitForSingleObject(child.process.get(), 0) != WAIT_OBJECT_0) {
      // A child asked to stop before it listened for the request: ask again.
      if (child.stop_pending && rmm::win::request_stop(static_cast<std::uint32_t>(pid))) {
        child.stop_pending = false;
      }
      return std::nullopt;
    }
    DWORD code = 0;
    ::GetExitCodeProcess(child.process.get(), &code);
    children_.erase(it);  // closes the handle: the pid may be reused from here on
    return ExitInfo{static_cast<int>(code), 0};
  }

  void terminate(pid_t pid) override {
    std::lock_guard lock(mutex_);
    auto it = children_.find(pid);
    if (it == children_.end()) return;
    it->second.stop_pending = !rmm::win::request_stop(static_cast<std::uint32_t>(pid));
  }

  void kill(pid_t pid) override {
    std::lock_guard lock(mutex_);
    if (auto it = children_.find(pid); it != children_.end()) {
      ::TerminateProcess(it->second.process.get(), kKilledExitCode);
    }
  }

  Result<ProcessUsage> usage(pid_t pid) override {
    std::lock_guard lock(mutex_);
    auto it = children_.find(pid);
    if (it == children_.end()) return failf("process {} is not supervised", pid);
    HANDLE h = it->second.process.get();
    PROCESS_MEMORY_COUNTERS_EX memory{};
    memory.cb = sizeof(memory);
    if (!::GetProcessMemoryInfo(h, reinterpret_cast<PROCESS_MEMORY_COUNTERS*>(&memory),
                                sizeof(memory))) {
      return std::unexpected(rmm::win::last_error("GetProcessMemoryInfo"));
    }
    FILETIME created, exited, kernel, user;
    if (!::GetProcessTimes(h, &created, &exited, &kernel, &user)) {
      return std::unexpected(rmm::win::last_error("GetProcessTimes"));
    }
    ProcessUsage u;
    u.rss_bytes = memory.WorkingSetSize;  // the working set is what Linux calls resident
    u.cpu_time = filetime_duration(kernel) + filetime_duration(user);
    return u;
  }

 private:
  struct Child {
    Handle process;
    bool stop_pending = false;
  };

  Handle job_;
  std::mutex mutex_;
  std::map<pid_t, Child> children_;
};

}  // namespace

Result<std::unique_ptr<ProcessControl>> make_process_control() {
  Handle job(::CreateJobObjectW(nullptr, nullptr));
  if (!job) return std::unexpected(rmm::win::last_error("CreateJobObjectW"));
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags =
      JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_BREAKAWAY_OK;
  if (!::SetInformationJobObject(job.get(), JobObjectExtendedLimitInformation, &limits,
                                 sizeof(limits))) {
    return std::unexpected(rmm::win::last_error("setting the agent job's limits"));
  }
  return std::make_unique<WindowsProcessControl>(std::move(job));
}

}  // namespace rmm::watchdog
