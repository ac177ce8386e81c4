// Running a program as a service of the operating system's service manager, or as a console
// program, and registering it as one. Windows: the agent and the watchdog are services of the
// service control manager (GuruRMMAgent, GuruRMMWatchdog); the SCM's stop and shutdown requests
// become rmm::shutdown::request(). POSIX: systemd starts the programs as plain processes (the
// Debian package's units), so run() only calls main and install() is not supported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::service {

inline constexpr char kAgentServiceName[] = "GuruRMMAgent";
inline constexpr char kWatchdogServiceName[] = "GuruRMMWatchdog";

using MainFunction = int (*)(int argc, char** argv);

// Runs `main_fn(argc, argv)` and returns its exit code. Windows: as the service `name` when the
// service control manager started this process, otherwise as a console program; either way the
// process also stops on its stop event (common/platform/windows/stop_event.h). Under the SCM,
// standard output and error go to <default state dir>\<name>.log, since a service has none.
int run(std::string_view name, MainFunction main_fn, int argc, char** argv);

struct ServiceSpec {
  std::string name;          // the service's key: "GuruRMMWatchdog"
  std::string display_name;  // what the Services console shows
  std::string description;
  // The program and its arguments; an empty program (command[0]) means this executable.
  std::vector<std::string> command;
};

// Registers the service: started automatically at boot as LocalSystem, restarted by the service
// control manager when it fails (also when it exits with a non-zero code). An existing service of
// that name is reconfigured instead.
Status install(const ServiceSpec& spec);
// Stops the service if it runs and removes it. kNotFound when there is no such service.
Status uninstall(std::string_view name);

// The `install-service` and `uninstall-service` subcommands of `program`
// (common/service_commands.cc): do it, say what was done on stdout or why not on stderr, and return
// the exit code (0 or 1).
int install_command(std::string_view program, const ServiceSpec& spec);
int uninstall_command(std::string_view program, std::string_view name);

}  // namespace rmm::service
