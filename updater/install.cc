#include "updater/install.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rmm::updater {
namespace {

namespace fs = std::filesystem;

fs::path with_suffix(const fs::path& bin, const char* suffix) {
  fs::path p = bin;
  p += suffix;
  return p;
}

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
  auto tmp = with_suffix(target, ".tmp");
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_hard_link(source, tmp, ec);
  if (ec) return failf("linking {} to {}: {}", source.string(), tmp.string(), ec.message());
  fs::rename(tmp, target, ec);
  if (ec) return failf("renaming {}: {}", tmp.string(), ec.message());
  return {};
}

}  // namespace

fs::path staged_path(const fs::path& bin) {
  return with_suffix(bin, ".new");
}
fs::path previous_path(const fs::path& bin) {
  return with_suffix(bin, ".prev");
}

Status stage(const fs::path& bin, std::span<const std::uint8_t> artifact) {
  auto path = staged_path(bin);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (fd < 0) return failf("creating {}: {}", path.string(), std::strerror(errno));
  std::size_t done = 0;
  while (done < artifact.size()) {
    ssize_t n = ::write(fd, artifact.data() + done, artifact.size() - done);
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

Status swap_in(const fs::path& bin) {
  if (auto st = link_over(bin, previous_path(bin)); !st) return st;
  std::error_code ec;
  fs::rename(staged_path(bin), bin, ec);
  if (ec) return failf("installing {}: {}", bin.string(), ec.message());
  return fsync_dir(bin.parent_path());
}

Status restore_previous(const fs::path& bin) {
  auto prev = previous_path(bin);
  if (!fs::exists(prev)) return failf("{} is missing: nothing to roll back to", prev.string());
  // The failed build is kept for inspection next to the others.
  std::error_code ec;
  fs::remove(with_suffix(bin, ".failed"), ec);
  fs::create_hard_link(bin, with_suffix(bin, ".failed"), ec);
  if (auto st = link_over(prev, bin); !st) return st;
  return fsync_dir(bin.parent_path());
}

}  // namespace rmm::updater
