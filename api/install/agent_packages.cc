#include "api/install/agent_packages.h"

#include <sodium.h>

#include <array>
#include <fstream>

namespace rmm::api::install {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "gururmm-agent_";
constexpr std::size_t kMaxPackages = 256;  // files looked at in the directory, at most

// The architecture of "gururmm-agent_<version>_<arch>.deb", or "" when the name is not of that
// form.
std::string arch_of(std::string_view name) {
  if (!name.starts_with(kPrefix) || !name.ends_with(".deb")) return {};
  std::string_view rest = name.substr(kPrefix.size(), name.size() - kPrefix.size() - 4);
  auto underscore = rest.rfind('_');
  if (underscore == std::string_view::npos || underscore == 0 || underscore + 1 == rest.size()) {
    return {};
  }
  return std::string(rest.substr(underscore + 1));
}

}  // namespace

bool is_package_file_name(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '.' || !name.ends_with(".deb")) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '~' || c == '-';
    if (!ok) return false;
  }
  return name.find("..") == std::string_view::npos;
}

Result<std::string> AgentPackages::digest_of(const fs::path& file, std::uintmax_t size,
                                             fs::file_time_type mtime) {
  const std::string name = file.filename().string();
  {
    std::lock_guard lock(mutex_);
    auto it = digests_.find(name);
    if (it != digests_.end() && it->second.size == size && it->second.mtime == mtime) {
      return it->second.sha256;
    }
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return failf("cannot read {}", file.string());
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::array<char, 64 * 1024> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    auto n = in.gcount();
    if (n <= 0) break;
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buf.data()),
                              static_cast<unsigned long long>(n));
  }
  if (in.bad()) return failf("reading {} failed", file.string());
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_final(&state, digest.data());
  std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  std::string sha(hex.data());
  std::lock_guard lock(mutex_);
  digests_[name] = Digest{size, mtime, sha};
  return sha;
}

Result<std::vector<AgentPackage>> AgentPackages::current() {
  struct Candidate {
    fs::path path;
    std::uintmax_t size = 0;
    fs::file_time_type mtime;
  };
  std::map<std::string, Candidate> newest;  // by architecture
  std::error_code ec;
  fs::directory_iterator it(dir_, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return std::vector<AgentPackage>{};
    return failf("agent-packages-dir {}: {}", dir_.string(), ec.message());
  }
  std::size_t seen = 0;
  for (const auto& entry : it) {
    if (++seen > kMaxPackages) break;
    const std::string name = entry.path().filename().string();
    const std::string arch = arch_of(name);
    if (arch.empty() || !is_package_file_name(name)) continue;
    if (!entry.is_regular_file(ec) || ec) continue;
    Candidate c{entry.path(), entry.file_size(ec), entry.last_write_time(ec)};
    if (ec) continue;
    auto& slot = newest[arch];
    if (slot.path.empty() || c.mtime > slot.mtime ||
        (c.mtime == slot.mtime && c.path.filename() > slot.path.filename())) {
      slot = c;
    }
  }
  std::vector<AgentPackage> out;
  for (const auto& [arch, c] : newest) {
    auto sha = digest_of(c.path, c.size, c.mtime);
    if (!sha) return std::unexpected(sha.error());
    out.push_back(AgentPackage{arch, c.path.filename().string(), std::move(*sha)});
  }
  return out;
}

}  // namespace rmm::api::install
