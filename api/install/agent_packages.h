// The agent packages rmm-api offers to installers: the files `gururmm-agent_<version>_<arch>.deb`
// in agent-packages-dir (docs/enrollment.md). Per architecture the most recently modified one is
// offered; its SHA-256 is computed once per (size, modification time) and remembered.
//
// Concurrency: thread-safe (one mutex around the digest cache).
// Limitations: a package replaced while an install line is outstanding changes the script the
// line pins, so that line then refuses to run: make a new code after publishing a new package.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::api::install {

struct AgentPackage {
  std::string arch;    // Debian architecture, from the file name: "amd64"
  std::string file;    // the file name: "gururmm-agent_1.4.0_amd64.deb"
  std::string sha256;  // lower-case hex
};

// True for a name the package route may serve: one path segment of [A-Za-z0-9._+~-] ending in
// ".deb", not starting with '.', at most 200 characters.
bool is_package_file_name(std::string_view name);

class AgentPackages {
 public:
  explicit AgentPackages(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& dir() const { return dir_; }
  // The newest package of each architecture, sorted by architecture; empty when there is none.
  Result<std::vector<AgentPackage>> current();

 private:
  struct Digest {
    std::uintmax_t size = 0;
    std::filesystem::file_time_type mtime;
    std::string sha256;
  };
  Result<std::string> digest_of(const std::filesystem::path& file, std::uintmax_t size,
                                std::filesystem::file_time_type mtime);

  std::filesystem::path dir_;
  std::mutex mutex_;
  std::map<std::string, Digest> digests_;  // by file name
};

}  // namespace rmm::api::install
