// The file writes of common/files.h with the Win32 API. FlushFileBuffers is the fsync; a rename
// with MOVEFILE_WRITE_THROUGH returns once the move is on disk, which stands in for the directory
// fsync Windows does not have.
#include "common/files.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::files {
namespace {

struct Handle {
  HANDLE h = INVALID_HANDLE_VALUE;
  ~Handle() {
    if (h != INVALID_HANDLE_VALUE) ::CloseHandle(h);
  }
};

Status write_file(const std::filesystem::path& path, std::string_view content, DWORD disposition,
                  bool sync) {
  Handle file;
  file.h = ::CreateFileW(path.c_str(), GENERIC_WRITE, 0, nullptr, disposition,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file.h == INVALID_HANDLE_VALUE)
    return std::unexpected(win::last_error("creating " + path.string()));
  std::size_t done = 0;
  while (done < content.size()) {
    DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(content.size() - done, 1u << 30));
    DWORD written = 0;
    if (!::WriteFile(file.h, content.data() + done, chunk, &written, nullptr)) {
      return std::unexpected(win::last_error("writing " + path.string()));
    }
    done += written;
  }
  if (sync && !::FlushFileBuffers(file.h))
    return std::unexpected(win::last_error("syncing " + path.string()));
  return {};
}

Status move_over(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (!::MoveFileExW(from.c_str(), to.c_str(),
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return std::unexpected(win::last_error("renaming onto " + to.string()));
  }
  return {};
}

}  // namespace

Status write_atomic(const std::filesystem::path& path, std::string_view content, mode_t) {
  auto tmp = path;
  tmp += ".tmp";
  if (auto st = write_file(tmp, content, CREATE_ALWAYS, true); !st) return st;
  return move_over(tmp, path);
}

Status write_new(const std::filesystem::path& path, std::string_view content, mode_t) {
  return write_file(path, content, CREATE_NEW, true);
}

Status write_replace(const std::filesystem::path& path, std::string_view content) {
  auto tmp = path;
  tmp += ".tmp";
  if (auto st = write_file(tmp, content, CREATE_ALWAYS, false); !st) return st;
  if (!::MoveFileExW(tmp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING)) {
    return std::unexpected(win::last_error("renaming onto " + path.string()));
  }
  return {};
}

// TODO(platform): the mode has no Windows meaning; directories that hold secrets are protected by
// their ACL (the agent's state directory, set at install time).
Status ensure_dir(const std::filesystem::path& path, mode_t) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return failf("creating directory {}: {}", path.string(), ec.message());
  return {};
}

}  // namespace rmm::files
