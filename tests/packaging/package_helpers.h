// Helpers of the package tests: shell commands with their output, the paths a .deb holds, and
// what a systemd unit runs (tests/packaging/*_test.cc).
//
// Concurrency: one test thread.
// Limitations: sh() runs through /bin/sh -c; quote() every path given to it.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace rmm::test::packaging {

struct ShResult {
  int code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` with /bin/sh; the exit code and output (bounded at 4 MiB).
ShResult sh(const std::string& command);
std::string quote(const std::filesystem::path& p);

// The paths `dpkg-deb -c` lists, without "./", trailing "/" and symlink targets.
std::set<std::string> deb_paths(const std::filesystem::path& deb);
// A control field (`dpkg-deb -f`).
std::string deb_field(const std::filesystem::path& deb, const std::string& field);

// What systemd would run for a unit: the [Service] keys this project's units use.
struct Unit {
  std::string user;                     // empty: root
  std::vector<std::string> exec_start;  // split on spaces (the units quote nothing)
  std::filesystem::path environment_file;
  bool environment_file_optional = false;
};
Unit read_unit(const std::filesystem::path& file);
// KEY=VALUE lines of an EnvironmentFile (comments and blank lines skipped).
std::vector<std::pair<std::string, std::string>> read_env_file(const std::filesystem::path& file);

// The packages of this build (the ctest fixture `debs`, tests/packaging/make_debs.cmake).
std::filesystem::path server_deb();
std::filesystem::path agent_deb();

}  // namespace rmm::test::packaging
