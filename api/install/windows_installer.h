// A site's Windows installer: a copy of the one generic agent package,
// gururmm-agent-<version>-x64.msi (packaging/windows, built by `tools/rmm windows`), with the
// site's settings inserted as rows of its Property table by msitools' msibuild, exactly as
// docs/agent.md ("Installing on Windows") describes: SERVERURL (the broker's public NATS URL),
// ENROLLCODE, ENROLLCREDS (the shared enrollment credential) and CAPEM (the CA agents pin, when
// the broker has one). The package itself is never rebuilt, so one Windows build serves every
// site.
//
// The copy is made in a private directory (mkdtemp, mode 0700) that is removed before returning;
// msibuild runs with a deadline. Neither the code nor the credential is ever put in an error
// message: msibuild's output is scrubbed of both.
//
// Concurrency: thread-safe (no state but the options).
// Limitations: the code and the credential are in msibuild's command line (/proc/<pid>/cmdline)
// for the moment it runs: msibuild reads SQL only from its arguments. The whole package is held in
// memory (kMaxMsiBytes).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::api::install {

inline constexpr std::uintmax_t kMaxMsiBytes = 256u << 20;

struct WindowsInstallerOptions {
  std::filesystem::path dir;  // where gururmm-agent-<version>-x64.msi is (windows-installer-dir)
  std::filesystem::path msibuild = "/usr/bin/msibuild";
  std::string server_url;         // SERVERURL: the broker's URL enrolled agents use
  std::filesystem::path ca_file;  // CAPEM's contents; empty: no CAPEM (plaintext broker)
  std::chrono::milliseconds timeout{30'000};  // for msibuild
};

struct GenericMsi {
  std::filesystem::path file;
  std::string version;  // from the name: "0.1.0"
};

// The version in a generic package's name, gururmm-agent-<digits and dots>-x64.msi; nullopt for
// any other name.
std::optional<std::string> generic_msi_version(std::string_view file_name);

class WindowsInstaller {
 public:
  explicit WindowsInstaller(WindowsInstallerOptions options) : options_(std::move(options)) {}

  // The generic package to copy (the most recently modified one) once msibuild is there too;
  // kNotFound with a message for the client naming what is missing (the setting, not the path).
  Result<GenericMsi> generic() const;

  // The bytes of a copy of `msi` with the site's rows; `enroll_creds` is the text of the shared
  // enrollment credential (InstallRoutes::enrollment_credential). kTimeout when msibuild ran out
  // of time, kGeneric for anything else (its message names the step, never a secret).
  Result<std::string> site_copy(const GenericMsi& msi, std::string_view enroll_code,
                                std::string_view enroll_creds) const;

  // Where the generic package and msibuild are looked for (for the log).
  const WindowsInstallerOptions& options() const { return options_; }

 private:
  WindowsInstallerOptions options_;
};

}  // namespace rmm::api::install
