// ChildProcess on Windows. Every command runs in its own job object, Windows' process group: the
// job is created with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE and only the agent holds its handle, so
// TerminateJobObject kills the whole tree (children a script started included) and, when the
// agent dies for any reason, the kernel closes the handle and kills the tree: the counterpart of
// Linux's PR_SET_PDEATHSIG, and stronger, as it also takes the grandchildren. The process is
// always created suspended and put in the job before its first instruction runs, so nothing it
// starts can escape the job; a held process (SpawnSpec::held) stays suspended until release().
//
// Output is read by polling the pipes (PeekNamedPipe) rather than with reader threads: anonymous
// pipes cannot be waited on or read asynchronously, and a thread blocked in ReadFile would have to
// be cancelled on close_output(); polling every few milliseconds keeps the object on one thread,
// as the interface promises, for a cost that does not show next to a command's run time.
//
// Only the pipe ends and the NUL device are inherited (PROC_THREAD_ATTRIBUTE_HANDLE_LIST): a
// command never holds another command's pipes or any other handle of the agent.
#include <algorithm>
#include <thread>

#include "agent/platform/process.h"
#include "agent/platform/windows/inherit_only.h"
#include "agent/platform/windows/output_decoder.h"
#include "agent/platform/windows/process_times.h"
#include "agent/platform/windows/unique_handle.h"
#include "common/platform/windows/command_line.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::agent::platform {
namespace {

using rmm::agent::win::UniqueHandle;

// The exit code of a process that terminate_group() or kill_group() ended.
constexpr UINT kKilledExitCode = 1;
constexpr auto kPollStep = std::chrono::milliseconds(5);

struct Stream {
  UniqueHandle pipe;  // read end
  win::OutputDecoder decoder;
};

class WinChild final : public ChildProcess {
 public:
  WinChild(PROCESS_INFORMATION pi, UniqueHandle job, UniqueHandle out, UniqueHandle err)
      : process_(pi.hProcess), thread_(pi.hThread), job_(std::move(job)), pid_(pi.dwProcessId) {
    streams_[0].pipe = std::move(out);
    streams_[1].pipe = std::move(err);
  }

  ~WinChild() override {
    close_output();
    if (!poll_exit()) {
      ::TerminateJobObject(job_.get(), kKilledExitCode);
      ::WaitForSingleObject(process_.get(), 5000);
      return;
    }
    // As on Linux, a background process a finished command left keeps running: the job stops
    // killing on close (it still could be ended through a record, see kill_leftover_group).
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    ::SetInformationJobObject(job_.get(), JobObjectExtendedLimitInformation, &limits,
                              sizeof limits);
  }

  std::uint32_t pid() const override { return pid_; }

  Result<ProcessGroupRecord> group_record() const override {
    auto start = win::process_start_time(process_.get());
    if (!start) return std::unexpected(start.error());
    DWORD session = 0;
    ::ProcessIdToSessionId(pid_, &session);
    return ProcessGroupRecord{.group = pid_, .leader_start = *start, .session = session};
  }

  Status release() override {
    if (!thread_) return {};
    const DWORD resumed = ::ResumeThread(thread_.get());
    thread_.reset();
    if (resumed == static_cast<DWORD>(-1))
      return std::unexpected(rmm::win::last_error("ResumeThread"));
    return {};
  }

  bool read_some(std::chrono::milliseconds wait, std::size_t max_bytes, std::string& out,
                 std::string& err) override {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      bool progress = false;
      for (int i = 0; i < 2; ++i)
        progress = drain(streams_[i], max_bytes, i == 0 ? out : err) || progress;
      const bool open = streams_[0].pipe || streams_[1].pipe;
      if (progress || !open) return open;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return true;
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(kPollStep, deadline - now));
    }
  }

  void close_output() override {
    streams_[0].pipe.reset();
    streams_[1].pipe.reset();
  }

  std::optional<ExitStatus> poll_exit() override {
    if (exit_) return exit_;
    if (::WaitForSingleObject(process_.get(), 0) != WAIT_OBJECT_0) return std::nullopt;
    DWORD code = 0;
    if (!::GetExitCodeProcess(process_.get(), &code)) return std::nullopt;
    exit_ = ExitStatus{.exit_code = static_cast<int>(code), .term_signal = 0};
    return exit_;
  }

  // Windows has no polite stop for a console program in a console of its own (Ctrl+Break only
  // reaches processes that share the sender's console), so terminating is killing.
  void terminate_group() override { kill_group(); }
  void kill_group() override { ::TerminateJobObject(job_.get(), kKilledExitCode); }

  bool group_alive() const override {
    JOBOBJECT_BASIC_ACCOUNTING_INFORMATION info{};
    if (!::QueryInformationJobObject(job_.get(), JobObjectBasicAccountingInformation, &info,
                                     sizeof info, nullptr)) {
      return ::WaitForSingleObject(process_.get(), 0) != WAIT_OBJECT_0;
    }
    return info.ActiveProcesses > 0;
  }

 private:
  // Appends what `s` has now (at most max_bytes); true when it read something or saw the end.
  static bool drain(Stream& s, std::size_t max_bytes, std::string& target) {
    if (!s.pipe) return false;
    char buf[16 * 1024];
    std::size_t taken = 0;
    while (taken < max_bytes) {
      DWORD available = 0;
      if (!::PeekNamedPipe(s.pipe.get(), nullptr, 0, nullptr, &available, nullptr)) {
        target += s.decoder.decode({}, true);  // the writers are gone (ERROR_BROKEN_PIPE)
        s.pipe.reset();
        return true;
      }
      if (available == 0) break;
      const auto want = std::min<std::size_t>({sizeof buf, max_bytes - taken, available});
      DWORD got = 0;
      if (!::ReadFile(s.pipe.get(), buf, static_cast<DWORD>(want), &got, nullptr) || got == 0) {
        target += s.decoder.decode({}, true);
        s.pipe.reset();
        return true;
      }
      target += s.decoder.decode(std::string_view(buf, got));
      taken += got;
    }
    return taken > 0;
  }

  UniqueHandle process_;
  UniqueHandle thread_;  // until release()
  UniqueHandle job_;
  DWORD pid_;
  Stream streams_[2];
  std::optional<ExitStatus> exit_;
};

bool is_absolute(std::wstring_view path) {
  const bool drive = path.size() >= 3 && path[1] == L':' && (path[2] == L'\\' || path[2] == L'/');
  return drive || path.starts_with(L"\\\\");
}

bool has_suffix_ignoring_case(std::wstring_view s, std::wstring_view suffix) {
  if (s.size() < suffix.size()) return false;
  return ::CompareStringOrdinal(s.data() + s.size() - suffix.size(),
                                static_cast<int>(suffix.size()), suffix.data(),
                                static_cast<int>(suffix.size()), TRUE) == CSTR_EQUAL;
}

// The environment block: "NAME=value\0" entries sorted by name as Windows keeps them, then "\0".
// Names are case-insensitive on Windows: of two entries with the same name (the base
// environment's PATH and a command's Path) the later one wins, as in set_env.
Result<std::wstring> environment_block(const std::vector<std::string>& env) {
  struct Entry {
    std::wstring text;
    std::size_t name_length;
  };
  std::vector<Entry> entries;
  for (const auto& e : env) {
    auto w = rmm::win::to_wide(e);
    if (!w) return std::unexpected(with_context(w.error(), "environment"));
    // Position 0 may be '=' itself: Windows keeps per-drive directories as "=C:=C:\dir".
    const auto equals = w->find(L'=', 1);
    if (w->find(L'\0') != std::wstring::npos || equals == std::wstring::npos) {
      return fail(Error::Code::kInvalidInput, "environment entries must be NAME=value");
    }
    entries.push_back({std::move(*w), equals});
  }
  auto compare = [](const Entry& a, const Entry& b) {
    return ::CompareStringOrdinal(a.text.c_str(), static_cast<int>(a.name_length), b.text.c_str(),
                                  static_cast<int>(b.name_length), TRUE);
  };
  std::stable_sort(entries.begin(), entries.end(),
                   [&](const Entry& a, const Entry& b) { return compare(a, b) == CSTR_LESS_THAN; });
  std::wstring block;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && compare(entries[i], entries[i + 1]) == CSTR_EQUAL) continue;
    block.append(entries[i].text).push_back(L'\0');
  }
  if (block.empty()) block.push_back(L'\0');
  block.push_back(L'\0');
  return block;
}

// A pipe whose write end the child inherits; the read end stays the agent's.
Status make_pipe(UniqueHandle& read, UniqueHandle& write) {
  HANDLE r = nullptr, w = nullptr;
  if (!::CreatePipe(&r, &w, nullptr, 0)) return std::unexpected(rmm::win::last_error("CreatePipe"));
  read.reset(r);
  write.reset(w);
  if (!::SetHandleInformation(w, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)) {
    return std::unexpected(rmm::win::last_error("SetHandleInformation"));
  }
  return {};
}

Result<UniqueHandle> make_kill_on_close_job() {
  UniqueHandle job(::CreateJobObjectW(nullptr, nullptr));
  if (!job) return std::unexpected(rmm::win::last_error("CreateJobObjectW"));
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!::SetInformationJobObject(job.get(), JobObjectExtendedLimitInformation, &limits,
                                 sizeof limits)) {
    return std::unexpected(rmm::win::last_error("SetInformationJobObject"));
  }
  return job;
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return fail(Error::Code::kInvalidInput, "no program to run");
  auto program = rmm::win::to_wide(spec.argv[0]);
  auto dir = rmm::win::to_wide(spec.working_dir);
  if (!program || !dir)
    return fail(Error::Code::kInvalidInput, "program or directory is not UTF-8");
  if (!is_absolute(*program)) {
    return fail(Error::Code::kInvalidInput, "the program must be an absolute path");
  }
  if (!is_absolute(*dir)) {
    return fail(Error::Code::kInvalidInput, "the working directory must be an absolute path");
  }
  // CreateProcessW would run a batch file through cmd.exe with the arguments as cmd.exe reads
  // them (%, ^, & and quotes are cmd syntax), which no quoting makes safe: a script is a shell
  // command.
  if (has_suffix_ignoring_case(*program, L".bat") || has_suffix_ignoring_case(*program, L".cmd")) {
    return failf("{}: batch files run as shell commands, not as programs", spec.argv[0]);
  }
  const DWORD dir_attributes = ::GetFileAttributesW(dir->c_str());
  if (dir_attributes == INVALID_FILE_ATTRIBUTES) {
    return std::unexpected(
        rmm::win::last_error(fmt::format("working directory {}", spec.working_dir)));
  }
  if ((dir_attributes & FILE_ATTRIBUTE_DIRECTORY) == 0) {
    return failf("working directory {}: not a directory", spec.working_dir);
  }
  auto line = rmm::win::build_command_line(spec.argv);
  if (!line) return std::unexpected(line.error());
  auto env = environment_block(spec.env);
  if (!env) return std::unexpected(env.error());

  UniqueHandle out_read, out_write, err_read, err_write;
  if (auto s = make_pipe(out_read, out_write); !s) return std::unexpected(s.error());
  if (auto s = make_pipe(err_read, err_write); !s) return std::unexpected(s.error());
  SECURITY_ATTRIBUTES inherit{.nLength = sizeof(SECURITY_ATTRIBUTES),
                              .lpSecurityDescriptor = nullptr,
                              .bInheritHandle = TRUE};
  UniqueHandle null_in(::CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                     &inherit, OPEN_EXISTING, 0, nullptr));
  if (!null_in) return std::unexpected(rmm::win::last_error("opening NUL"));
  auto job = make_kill_on_close_job();
  if (!job) return std::unexpected(job.error());

  win::InheritOnly startup;
  if (auto s = startup.init({null_in.get(), out_write.get(), err_write.get()}); !s) {
    return std::unexpected(s.error());
  }
  auto& si = startup.info().StartupInfo;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = null_in.get();
  si.hStdOutput = out_write.get();
  si.hStdError = err_write.get();

  PROCESS_INFORMATION pi{};
  const DWORD flags = CREATE_SUSPENDED | CREATE_NO_WINDOW | CREATE_UNICODE_ENVIRONMENT |
                      EXTENDED_STARTUPINFO_PRESENT;
  if (!::CreateProcessW(program->c_str(), line->data(), nullptr, nullptr, TRUE, flags, env->data(),
                        dir->c_str(), &si, &pi)) {
    return std::unexpected(rmm::win::last_error(fmt::format("starting {}", spec.argv[0])));
  }
  if (!::AssignProcessToJobObject(job->get(), pi.hProcess)) {
    auto error = rmm::win::last_error(fmt::format("putting {} in a job object", spec.argv[0]));
    ::TerminateProcess(pi.hProcess, kKilledExitCode);
    ::CloseHandle(pi.hThread);
    ::CloseHandle(pi.hProcess);
    return std::unexpected(error);
  }
  auto child =
      std::make_unique<WinChild>(pi, std::move(*job), std::move(out_read), std::move(err_read));
  // The write ends close here, so the pipes end when the child's copies do.
  if (!spec.held) {
    if (auto s = child->release(); !s) return std::unexpected(s.error());
  }
  return std::unique_ptr<ChildProcess>(std::move(child));
}

}  // namespace rmm::agent::platform
