#include "admin/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rmm::broker {
namespace {

Status errno_error(std::string_view what, const std::filesystem::path& path) {
  return failf("{} {}: {}", what, path.string(), std::strerror(errno));
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp.{}", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errno_error("creating", tmp);
  // open() applies the umask; the mode must be exactly what was asked for.
  if (::fchmod(fd, mode) != 0) {
    ::close(fd);
    return errno_error("chmod", tmp);
  }
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return errno_error("writing", tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return errno_error("syncing", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_error("renaming to", path);
  int dir_fd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error::Code::kNotFound, fmt::format("cannot read {}", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status ensure_dir(const std::filesystem::path& dir, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return failf("creating {}: {}", dir.string(), ec.message());
  if (::chmod(dir.c_str(), mode) != 0) return errno_error("chmod", dir);
  return {};
}

std::string format_creds(std::string_view user_jwt, std::string_view user_seed) {
  return fmt::format(
      "-----BEGIN NATS USER JWT-----\n{}\n------END NATS USER JWT------\n\n"
      "************************* IMPORTANT *************************\n"
      "NKEY Seed printed below can be used to sign and prove identity.\n"
      "NKEYs are sensitive and should be treated as secrets.\n\n"
      "-----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n\n"
      "*************************************************************\n",
      user_jwt, user_seed);
}

}  // namespace rmm::broker
