// Where the Debian packages put GuruRMM (docs/operations.md, "Install"): the defaults of every
// program's path settings. Development runs (tools/rmm up, the tests) pass their own paths, so no
// default points into a source or build tree. cmake/packaging.cmake installs to the same places;
// package_test checks that the two agree.
#pragma once

#include <string_view>

namespace rmm::install_paths {

// Programs: the services, the CLIs (symlinked into /usr/bin) and the agent's three.
inline constexpr const char kBinDir[] = "/usr/lib/gururmm/bin";
inline constexpr const char kUpdater[] = "/usr/lib/gururmm/bin/rmm-updater";

// Read-only data of the server package.
inline constexpr const char kWebDir[] = "/usr/share/gururmm/web";
inline constexpr const char kMigrationsDir[] = "/usr/share/gururmm/migrations";
inline constexpr const char kStreamsDir[] = "/usr/share/gururmm/broker-config/streams";

// Settings and secrets.
inline constexpr const char kConfDir[] = "/etc/gururmm";

// State: the agent's own directory (identity, outbox, journal), and the server's home.
inline constexpr const char kAgentStateDir[] = "/var/lib/gururmm/agent";
inline constexpr const char kStateDir[] = "/var/lib/gururmm";

// The default of the agent-side programs' state-dir setting on this platform: kAgentStateDir on
// Linux, %ProgramData%\GuruRMM on Windows (common/platform/*/install_paths_*.cc).
std::string_view agent_state_dir();

// The default of the agent's updater setting on this platform: kUpdater on Linux; on Windows
// rmm-updater.exe beside the running executable (the installer puts the three programs in one
// folder, Program Files\GuruRMM), so a copied or relocated installation finds its own updater.
std::string_view agent_updater();

}  // namespace rmm::install_paths
