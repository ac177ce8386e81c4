// Running a command's process (agent/commands): its own process group, standard output and error
// on separate pipes, standard input from /dev/null, a clean environment and a working directory;
// never through a shell unless the command is a shell script. Plus the machine actions commands
// need (reboot; the boot id is in host_info.h). Implemented per platform (CMake picks the folder).
//
// Concurrency: a ChildProcess belongs to one thread; the free functions are thread-safe.
// Limitations: Windows has no implementation yet (kNotSupported, TODO(platform)).
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
};

struct ExitStatus {
  int exit_code = -1;   // -1 when a signal ended it
  int term_signal = 0;  // the signal, else 0
};

class ChildProcess {
 public:
  // Fails (with the reason) when the process could not be started: program missing or not
  // executable, working directory missing, no resources.
  static Result<std::unique_ptr<ChildProcess>> spawn(const SpawnSpec& spec);
  // Kills the process group if it is still running and reaps the process.
  virtual ~ChildProcess() = default;

  virtual std::uint32_t pid() const = 0;
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

// `name` when it is an absolute path to an executable file, else the first executable file
// `<dir>/<name>` for the dirs of `path_var` (a PATH value). kNotFound when there is none.
Result<std::string> find_program(std::string_view name, std::string_view path_var);

// The minimal environment a command starts from (PATH, HOME, LANG, ...), "NAME=value".
std::vector<std::string> base_environment();

// Why PowerShell commands cannot run here; nullopt where they can.
std::optional<std::string> powershell_unavailable_reason();

// Asks the init system to reboot now (Linux: `systemctl reboot`, else `shutdown -r now`).
Status reboot_machine();

}  // namespace rmm::agent::platform
