#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace rmm::files {
namespace {

std::unexpected<Error> errno_error(std::string_view what, const std::filesystem::path& p) {
  return failf("{} {}: {}", what, p.string(), std::strerror(errno));
}

}  // namespace

Status write_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  auto tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errno_error("creating", tmp);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return errno_error("writing", tmp);
    }
    done += static_cast<std::size_t>(n);
  }
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

Result<std::string> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error::Code::kNotFound, fmt::format("cannot read {}", path.string()));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Status ensure_dir(const std::filesystem::path& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return failf("creating directory {}: {}", path.string(), ec.message());
  if (::chmod(path.c_str(), mode) != 0) return errno_error("setting mode of", path);
  return {};
}

}  // namespace rmm::files
