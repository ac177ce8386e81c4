#include "api/install/windows_installer.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/files.h"
#include "common/platform/posix/capture_output.h"

namespace rmm::api::install {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "gururmm-agent-";
constexpr std::string_view kSuffix = "-x64.msi";

// The private directory a copy is made in, removed with everything in it when this ends.
class ScratchDir {
 public:
  static Result<ScratchDir> create() {
    std::error_code ec;
    fs::path base = fs::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / "gururmm-msi.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return failf("creating a directory in {}: {}", base.string(), std::strerror(errno));
    }
    return ScratchDir(pattern);
  }
  ScratchDir(ScratchDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit ScratchDir(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

// A value inside msibuild's SQL string literal, which has no escape for its quote.
Status check_sql_text(std::string_view what, std::string_view value) {
  if (value.find('\'') != std::string_view::npos || value.find('\0') != std::string_view::npos) {
    return failf("the {} cannot go into the installer (it holds a quote or NUL)", what);
  }
  return {};
}

std::string insert_property(std::string_view name, std::string_view value) {
  return fmt::format("INSERT INTO `Property` (`Property`, `Value`) VALUES ('{}', '{}')", name,
                     value);
}

std::string replaced(std::string text, std::string_view secret, std::string_view by) {
  if (secret.empty()) return text;
  for (auto at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + by.size())) {
    text.replace(at, secret.size(), by);
  }
  return text;
}

// msibuild may echo a failed query: no secret may reach the log through it. The credential goes
// line by line as well, so an echo that quotes its lines apart (or with other line ends) leaves
// none of its JWT or seed.
std::string without_secrets(std::string text, std::string_view code, std::string_view creds) {
  text = replaced(std::move(text), code, "<enrollment code>");
  text = replaced(std::move(text), creds, "<enrollment credential>");
  for (std::size_t at = 0; at < creds.size();) {
    auto end = creds.find('\n', at);
    if (end == std::string_view::npos) end = creds.size();
    std::string_view line = creds.substr(at, end - at);
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Short lines are the file's framing ("-----BEGIN ..."), not secret.
    if (line.size() >= 40) text = replaced(std::move(text), line, "<enrollment credential>");
    at = end + 1;
  }
  return text;
}

}  // namespace

std::optional<std::string> generic_msi_version(std::string_view name) {
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  std::string_view version = name.substr(kPrefix.size());
  if (version.size() <= kSuffix.size()) return std::nullopt;
  version.remove_suffix(kSuffix.size());
  if (version.size() > 32 || version.front() == '.' || version.back() == '.') return std::nullopt;
  for (char c : version) {
    if ((c < '0' || c > '9') && c != '.') return std::nullopt;
  }
  return std::string(version);
}

Result<GenericMsi> WindowsInstaller::generic() const {
  const std::string where =
      "windows-installer-dir (build it with `tools/rmm windows` and copy "
      "gururmm-agent-<version>-x64.msi there, docs/agent.md)";
  std::error_code ec;
  std::optional<GenericMsi> best;
  fs::file_time_type best_time;
  fs::directory_iterator it(options_.dir, ec);
  if (ec) {
    return fail(Error::Code::kNotFound,
                fmt::format("no Windows agent package: {} cannot be read", where));
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    auto version = generic_msi_version(name);
    if (!version) continue;
    std::error_code e;
    if (!fs::is_regular_file(it->symlink_status(e)) || e) continue;
    const auto mtime = it->last_write_time(e);
    if (e) continue;
    if (!best || mtime > best_time || (mtime == best_time && name > best->file.filename())) {
      best = GenericMsi{it->path(), std::move(*version)};
      best_time = mtime;
    }
  }
  if (!best) {
    return fail(Error::Code::kNotFound, fmt::format("no Windows agent package in {}", where));
  }
  if (::access(options_.msibuild.c_str(), X_OK) != 0) {
    return fail(Error::Code::kNotFound,
                "msibuild is not installed on the server (Debian package msitools): it writes the "
                "site's settings into the Windows installer");
  }
  return *best;
}

Result<std::string> WindowsInstaller::site_copy(const GenericMsi& msi, std::string_view enroll_code,
                                                std::string_view enroll_creds) const {
  std::vector<std::pair<std::string_view, std::string>> rows;
  if (auto s = check_sql_text("public NATS URL", options_.server_url); !s) {
    return std::unexpected(s.error());
  }
  if (options_.server_url.empty()) return fail("no public NATS URL for the installer");
  rows.emplace_back("SERVERURL", options_.server_url);
  if (auto s = check_sql_text("enrollment code", enroll_code); !s) {
    return std::unexpected(s.error());
  }
  rows.emplace_back("ENROLLCODE", std::string(enroll_code));
  // Without it the installed agent could not enroll (docs/agent.md).
  if (enroll_creds.empty()) return fail("no enrollment credential for the installer");
  if (auto s = check_sql_text("enrollment credential", enroll_creds); !s) {
    return std::unexpected(s.error());
  }
  rows.emplace_back("ENROLLCREDS", std::string(enroll_creds));
  if (!options_.ca_file.empty()) {
    auto ca = files::read_all(options_.ca_file);
    if (!ca) return std::unexpected(with_context(ca.error(), "setting 'install-ca-file'"));
    if (auto s = check_sql_text("CA certificate", *ca); !s) return std::unexpected(s.error());
    rows.emplace_back("CAPEM", std::move(*ca));
  }

  std::error_code ec;
  const auto size = fs::file_size(msi.file, ec);
  if (ec) return failf("reading {}: {}", msi.file.string(), ec.message());
  if (size > kMaxMsiBytes) {
    return failf("{} is larger than {} MiB", msi.file.string(), kMaxMsiBytes >> 20);
  }
  auto scratch = ScratchDir::create();
  if (!scratch) return std::unexpected(scratch.error());
  const fs::path copy = scratch->path() / "site.msi";
  if (!fs::copy_file(msi.file, copy, ec) || ec) {
    return failf("copying {}: {}", msi.file.string(), ec.message());
  }
  fs::permissions(copy, fs::perms::owner_read | fs::perms::owner_write, ec);

  std::vector<std::string> argv{options_.msibuild.string(), copy.string()};
  for (const auto& [name, value] : rows) {
    argv.emplace_back("-q");
    argv.push_back(insert_property(name, value));
  }
  auto run = posix::capture_output(argv, {.timeout = options_.timeout, .with_stderr = true});
  if (!run) {
    return fail(
        run.error().code == Error::Code::kTimeout ? Error::Code::kTimeout : Error::Code::kGeneric,
        without_secrets(run.error().message, enroll_code, enroll_creds));
  }
  if (run->exit_code != 0) {
    return failf("msibuild exited with {}: {}", run->exit_code,
                 without_secrets(run->output, enroll_code, enroll_creds));
  }
  auto bytes = files::read_all(copy);
  if (!bytes) return std::unexpected(bytes.error());
  return std::move(*bytes);
}

}  // namespace rmm::api::install
