#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "updater/platform/file_swap.h"

namespace rmm::updater::platform {
namespace {

namespace fs = std::filesystem;

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return failf("opening {}: {}", dir.string(), std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return failf("fsync {}: {}", dir.string(), std::strerror(errno));
  return {};
}

// Atomically makes `target` another name of `source`'s inode (link to a temp name, rename).
Status link_over(const fs::path& source, const fs::path& target) {
  auto tmp = target;
  tmp += ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_hard_link(source, tmp, ec);
  if (ec) return failf("linking {} to {}: {}", source.string(), tmp.string(), ec.message());
  fs::rename(tmp, target, ec);
  if (ec) return failf("renaming {}: {}", tmp.string(), ec.message());
  return {};
}

}  // namespace

Status write_executable(const fs::path& path, std::span<const std::uint8_t> content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (fd < 0) return failf("creating {}: {}", path.string(), std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return failf("writing {}: {}", path.string(), std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  bool ok = ::fchmod(fd, 0755) == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return failf("finishing {}: {}", path.string(), std::strerror(errno));
  return {};
}

// At every instant `bin` is a whole old or new binary: `previous` is linked first, then `staged`
// renamed over `bin`.
Status replace_binary(const fs::path& bin, const fs::path& staged, const fs::path& previous) {
  if (auto st = link_over(bin, previous); !st) return st;
  std::error_code ec;
  fs::rename(staged, bin, ec);
  if (ec) return failf("installing {}: {}", bin.string(), ec.message());
  return fsync_dir(bin.parent_path());
}

Status restore_binary(const fs::path& bin, const fs::path& previous, const fs::path& failed) {
  std::error_code ec;
  fs::remove(failed, ec);
  fs::create_hard_link(bin, failed, ec);
  if (auto st = link_over(previous, bin); !st) return st;
  return fsync_dir(bin.parent_path());
}

}  // namespace rmm::updater::platform
