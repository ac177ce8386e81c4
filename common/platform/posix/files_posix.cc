// The file writes of common/files.h with POSIX calls: fsync of the file and of its directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.h"

namespace rmm::files {
namespace {

std::unexpected<Error> errno_error(std::string_view what, const std::filesystem::path& p) {
  return failf("{} {}: {}", what, p.string(), std::strerror(errno));
}

// Writes all of `content` to `fd`; closes it on failure.
Status write_fd(int fd, std::string_view content, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = errno_error("writing", path);
      ::close(fd);
      return err;
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Status write_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  auto tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errno_error("creating", tmp);
  if (auto st = write_fd(fd, content, tmp); !st) return st;
  // The mode given to open() is filtered by the umask; secrets must end up exactly at `mode`.
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    return errno_error("syncing", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_error("renaming onto", path);
  auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno_error("opening directory", dir);
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return errno_error("syncing directory", dir);
  return {};
}

Status write_new(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return errno_error("creating", path);
  if (auto st = write_fd(fd, content, path); !st) return st;
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errno_error("syncing", path);
  return {};
}

Status write_replace(const std::filesystem::path& path, std::string_view content) {
  auto tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_error("opening", tmp);
  if (auto st = write_fd(fd, content, tmp); !st) return st;
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_error("renaming onto", path);
  return {};
}

Status ensure_dir(const std::filesystem::path& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return failf("creating directory {}: {}", path.string(), ec.message());
  if (::chmod(path.c_str(), mode) != 0) return errno_error("setting mode of", path);
  return {};
}

}  // namespace rmm::files
