// Running a command's process (agent/commands): its own process group, standard output and error
// on separate pipes, standard input from /dev/null, a clean environment and a working directory;
// never through a shell unless the command is a shell script. Its lifetime is bound to the
// agent's: the process gets SIGKILL when the agent dies (Linux: PR_SET_PDEATHSIG), and what is
// left of its group can be killed by the next run of the agent (kill_leftover_group). Windows:
// the process group is a job object that kills its processes when the agent's handle to it
// closes, the agent dying included. Plus how scripts run and the machine actions commands need
// (reboot; the boot id is in host_info.h). Implemented per platform (CMake picks the folder).
//
// Concurrency: a ChildProcess belongs to one thread; the free functions are thread-safe.
// Limitations: macOS has no implementation yet (kNotSupported, TODO(platform)).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::agent::platform {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0]: an absolute path (see find_program)
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string working_dir;        // absolute
  // The process is created (its group exists) but runs the program only at release(), so the
  // caller can record the group durably first. A held process whose agent dies never runs it.
  bool held = false;
};

// What names a command's process group across a restart of the agent, so that the next run can
// kill what is left of it and nothing else: a group id alone may name another group once the
// number has been reused. (Which boot it belongs to is recorded by the caller: after a reboot
// nothing of it can be left.)
struct ProcessGroupRecord {
  std::uint64_t group = 0;  // the process group id, = the leader's pid (Windows: the pid)
  // The leader's start time (Linux: clock ticks after boot; Windows: creation time, 100 ns units
  // since 1601).
  std::uint64_t leader_start = 0;
  std::uint64_t session = 0;  // the session of the group (members cannot leave it)
  bool operator==(const ProcessGroupRecord&) const = default;
};

// What kill_leftover_group found.
struct LeftoverKill {
  std::size_t killed = 0;     // processes of the group that were still running, sent SIGKILL
  std::size_t remaining = 0;  // still running when the wait ended (stuck in the kernel)
};

struct ExitStatus {
  int exit_code = -1;   // -1 when a signal ended it
  int term_signal = 0;  // the signal, else 0
};

class ChildProcess {
 public:
  // Fails (with the reason) when the process could not be started: program missing or not
  // executable, working directory missing, no resources. Call it from a thread that lives as long
  // as the process should: Linux ties the parent death signal to the spawning thread.
  static Result<std::unique_ptr<ChildProcess>> spawn(const SpawnSpec& spec);
  // Kills the process group if it is still running and reaps the process.
  virtual ~ChildProcess() = default;

  virtual std::uint32_t pid() const = 0;
  // The record that lets a later run of the agent find the group (kill_leftover_group).
  virtual Result<ProcessGroupRecord> group_record() const = 0;
  // A held process (SpawnSpec::held) runs its program now. Fails with the reason when the
  // program could not be executed. Nothing to do for a process that was not held.
  virtual Status release() = 0;
  // Waits up to `wait` for output, then appends what is available (at most `max_bytes` per
  // stream) to `out` and `err`. Returns false once both streams are closed.
  virtual bool read_some(std::chrono::milliseconds wait, std::size_t max_bytes, std::string& out,
                         std::string& err) = 0;
  // Stops reading: a process that outlives the command keeps no pipe of ours open.
  virtual void close_output() = 0;
  // Non-blocking: the exit status once the process has exited (reaped once, then remembered).
  virtual std::optional<ExitStatus> poll_exit() = 0;
  // Signals the whole process group: a polite stop, then a kill.
  virtual void terminate_group() = 0;
  virtual void kill_group() = 0;
  // Whether any process of the group is left.
  virtual bool group_alive() const = 0;
};

// Kills (SIGKILL) every process still in the recorded group, checking first that the group is
// still the recorded one (the leader, if it exists, has the recorded start time; members are in
// the recorded session and started no earlier than the leader), and waits up to `wait` until none
// is left. For a restart after the agent died while the command ran; the caller must know that
// the machine has not rebooted since (start times of another boot mean nothing).
Result<LeftoverKill> kill_leftover_group(const ProcessGroupRecord& record,
                                         std::chrono::milliseconds wait);

// `name` when it is an absolute path to an executable file, else the first executable file
// `<dir>/<name>` for the dirs of `path_var` (a PATH value). kNotFound when there is none.
Result<std::string> find_program(std::string_view name, std::string_view path_var);

// The minimal environment a command starts from (PATH, HOME, LANG, ...), "NAME=value".
std::vector<std::string> base_environment();

// Why PowerShell commands cannot run here; nullopt where they can.
std::optional<std::string> powershell_unavailable_reason();
// Why cmd commands (cmd.exe batch scripts) cannot run here; nullopt where they can.
std::optional<std::string> cmd_unavailable_reason();

// Script commands run from a file: named with `suffix`, holding `text`, run by script_argv.
// Linux: the script as sent, `<interpreter> <file>`. Windows: cmd.exe runs a .cmd file (a shell
// script without interpreter, and every cmd script), and PowerShell a .ps1 file (powershell.exe
// -NoProfile -NonInteractive -ExecutionPolicy Bypass). kPowerShell and kCmd fail elsewhere.
enum class ScriptLanguage { kShell, kPowerShell, kCmd };
struct ScriptFile {
  std::string suffix;  // ends the file's name
  std::string text;    // the file's bytes
};
// `interpreter`: the shell's absolute path (shell scripts; unused for PowerShell and cmd).
ScriptFile script_file(ScriptLanguage language, std::string_view interpreter,
                       std::string_view script);
Result<std::vector<std::string>> script_argv(ScriptLanguage language,
                                             const std::string& interpreter,
                                             const std::string& script_path);

// The interpreter of a shell command that names none, or "sh": /bin/sh; Windows: cmd.exe.
Result<std::string> default_shell();

// Whether `path` is absolute here ("/..."; Windows: "C:\..." or "\\server\...").
bool is_absolute_path(std::string_view path);
// The working directory of a command that names none ("/"; Windows: the system drive's root).
std::string default_working_dir();

// Asks the init system to reboot now (Linux: `systemctl reboot`, else `shutdown -r now`;
// Windows: InitiateSystemShutdownExW, applications closed without asking).
Status reboot_machine();

// Stops process `pid` if its name is still `name` (the process list's name: Linux the kernel's
// comm, at most 15 bytes; Windows the executable's file name, case-insensitive). Linux: SIGTERM
// through a pidfd (a reused pid cannot be hit between the check and the signal), then SIGKILL
// when it still runs after `grace`; Windows: TerminateProcess. Returns what happened, one line.
// kNotFound when no such process runs, kConflict when the pid now names another program.
Result<std::string> kill_process(std::uint32_t pid, std::string_view name,
                                 std::chrono::milliseconds grace = std::chrono::seconds(5));

}  // namespace rmm::agent::platform
