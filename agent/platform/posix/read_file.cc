#include "agent/platform/posix/read_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rmm::agent::posix {

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    return fail(err == ENOENT || err == ESRCH ? Error::Code::kNotFound : Error::Code::kGeneric,
                fmt::format("cannot read {}: {}", path.string(), std::strerror(err)));
  }
  std::string out;
  // /proc and /sys files report size 0, so grow in chunks instead of trusting fstat.
  constexpr std::size_t kChunk = 4096;
  while (out.size() < max_bytes) {
    const std::size_t old = out.size();
    const std::size_t want = std::min(kChunk, max_bytes - old);
    out.resize(old + want);
    ssize_t n = ::read(fd, out.data() + old, want);
    if (n < 0 && errno == EINTR) {
      out.resize(old);
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return fail(err == ESRCH ? Error::Code::kNotFound : Error::Code::kGeneric,
                  fmt::format("reading {}: {}", path.string(), std::strerror(err)));
    }
    out.resize(old + static_cast<std::size_t>(n));
    if (n == 0) break;
  }
  ::close(fd);
  return out;
}

}  // namespace rmm::agent::posix
