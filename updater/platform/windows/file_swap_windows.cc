#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "updater/platform/file_swap.h"

namespace rmm::updater::platform {
namespace {

namespace fs = std::filesystem;

// MOVEFILE_WRITE_THROUGH: the call returns only once the rename is on disk (the counterpart of
// fsyncing the directory on Linux).
constexpr DWORD kMoveFlags = MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH;

Status move(const fs::path& from, const fs::path& to) {
  if (!::MoveFileExW(from.c_str(), to.c_str(), kMoveFlags)) {
    return std::unexpected(
        rmm::win::last_error(fmt::format("renaming {} to {}", from.string(), to.string())));
  }
  return {};
}

Status flush_file(const fs::path& path) {
  HANDLE h = ::CreateFileW(path.c_str(), GENERIC_WRITE, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    return std::unexpected(rmm::win::last_error(fmt::format("opening {}", path.string())));
  }
  const BOOL ok = ::FlushFileBuffers(h);
  auto error = ok ? Error{} : rmm::win::last_error(fmt::format("flushing {}", path.string()));
  ::CloseHandle(h);
  if (!ok) return std::unexpected(error);
  return {};
}

}  // namespace

Status write_executable(const fs::path& path, std::span<const std::uint8_t> content) {
  HANDLE h = ::CreateFileW(path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    return std::unexpected(rmm::win::last_error(fmt::format("creating {}", path.string())));
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const auto chunk = static_cast<DWORD>(std::min<std::size_t>(content.size() - done, 1u << 20));
    DWORD written = 0;
    if (!::WriteFile(h, content.data() + done, chunk, &written, nullptr) || written == 0) {
      auto error = rmm::win::last_error(fmt::format("writing {}", path.string()));
      ::CloseHandle(h);
      return std::unexpected(error);
    }
    done += written;
  }
  const BOOL ok = ::FlushFileBuffers(h);
  auto error = ok ? Error{} : rmm::win::last_error(fmt::format("flushing {}", path.string()));
  ::CloseHandle(h);
  if (!ok) return std::unexpected(error);
  return {};
}

// A running image cannot be written or replaced, but it can be renamed: the old binary moves to
// `previous` (even if it still runs), then `staged` takes its name.
// Limitations: between the two renames `bin` does not exist; a power loss exactly there leaves
// `previous` and `staged` beside a missing `bin` (the watchdog then fails to start the agent).
Status replace_binary(const fs::path& bin, const fs::path& staged, const fs::path& previous) {
  if (auto st = move(bin, previous); !st) return st;
  if (auto st = move(staged, bin); !st) {
    if (auto back = move(previous, bin); !back) {
      return failf("{}; putting the old binary back: {}", st.error().message, back.error().message);
    }
    return st;
  }
  return {};
}

// The failed binary is renamed aside (it may still run), then a flushed copy of `previous` takes
// its name; `previous` itself stays for a later rollback.
Status restore_binary(const fs::path& bin, const fs::path& previous, const fs::path& failed) {
  std::error_code ec;
  if (fs::exists(bin, ec)) {
    if (auto st = move(bin, failed); !st) return st;
  }
  fs::path tmp = bin;
  tmp += ".tmp";
  if (!::CopyFileW(previous.c_str(), tmp.c_str(), FALSE)) {
    return std::unexpected(
        rmm::win::last_error(fmt::format("copying {} to {}", previous.string(), tmp.string())));
  }
  if (auto st = flush_file(tmp); !st) return st;
  return move(tmp, bin);
}

}  // namespace rmm::updater::platform
