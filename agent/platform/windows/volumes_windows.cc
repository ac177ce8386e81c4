// Space on every fixed volume that is mounted: on a drive letter or on a folder.
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/sdk_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

struct VolumeSearchCloser {
  void operator()(HANDLE h) const { ::FindVolumeClose(h); }
};

// "C:\", "D:\", ... from one NUL-separated, double-NUL-terminated list.
Result<std::vector<std::wstring>> drive_roots() {
  std::vector<wchar_t> buffer(512);
  for (;;) {
    const DWORD n = ::GetLogicalDriveStringsW(static_cast<DWORD>(buffer.size()), buffer.data());
    if (n == 0) return std::unexpected(rmm::win::last_error("GetLogicalDriveStringsW"));
    if (n < buffer.size()) break;
    buffer.assign(n + 1, L'\0');  // n is the size needed, terminator excluded
  }
  std::vector<std::wstring> roots;
  for (const wchar_t* p = buffer.data(); *p != L'\0'; p += roots.back().size() + 1) {
    roots.emplace_back(p);
  }
  return roots;
}

// The volume a drive letter points at; empty where there is none (Wine maps drive letters to
// folders, not volumes).
std::wstring volume_of(const std::wstring& root) {
  wchar_t name[64] = {};
  if (!::GetVolumeNameForVolumeMountPointW(root.c_str(), name,
                                           static_cast<DWORD>(std::size(name)))) {
    return {};
  }
  return name;
}

// Every volume's stable name, "\\?\Volume{GUID}\".
Result<std::vector<std::wstring>> volume_names() {
  wchar_t name[MAX_PATH + 1] = {};
  HANDLE raw = ::FindFirstVolumeW(name, static_cast<DWORD>(std::size(name)));
  if (raw == INVALID_HANDLE_VALUE) {
    if (::GetLastError() == ERROR_NO_MORE_FILES) return std::vector<std::wstring>();
    return std::unexpected(rmm::win::last_error("FindFirstVolumeW"));
  }
  std::unique_ptr<void, VolumeSearchCloser> search(raw);
  std::vector<std::wstring> names;
  do {
    names.emplace_back(name);
  } while (::FindNextVolumeW(search.get(), name, static_cast<DWORD>(std::size(name))));
  if (::GetLastError() != ERROR_NO_MORE_FILES) {
    return std::unexpected(rmm::win::last_error("FindNextVolumeW"));
  }
  return names;
}

// Where a volume is mounted ("C:\", "D:\data\"), drive letters first as Windows lists them;
// empty for a volume mounted nowhere (the EFI and recovery partitions).
std::vector<std::wstring> mount_paths(const std::wstring& volume) {
  std::vector<wchar_t> buffer(MAX_PATH + 1);
  DWORD needed = 0;
  if (!::GetVolumePathNamesForVolumeNameW(volume.c_str(), buffer.data(),
                                          static_cast<DWORD>(buffer.size()), &needed)) {
    if (::GetLastError() != ERROR_MORE_DATA || needed == 0) return {};
    buffer.assign(needed, L'\0');
    if (!::GetVolumePathNamesForVolumeNameW(volume.c_str(), buffer.data(),
                                            static_cast<DWORD>(buffer.size()), &needed)) {
      return {};
    }
  }
  std::vector<std::wstring> paths;
  for (const wchar_t* p = buffer.data(); *p != L'\0'; p += paths.back().size() + 1) {
    paths.emplace_back(p);
  }
  return paths;
}

std::string file_system_name(const std::wstring& volume) {
  wchar_t name[MAX_PATH + 1] = {};
  if (!::GetVolumeInformationW(volume.c_str(), nullptr, 0, nullptr, nullptr, nullptr, name,
                               static_cast<DWORD>(std::size(name)))) {
    return {};
  }
  return clip_text(rmm::win::to_utf8(name));
}

// The figures of one mounted volume; nullopt when it has none (a locked BitLocker volume, one
// being formatted), as Linux skips a mount statvfs cannot read.
std::optional<codec::FilesystemInfo> read_volume(const std::wstring& mount,
                                                 const std::wstring& volume) {
  ULARGE_INTEGER available{}, total{}, free{};
  if (!::GetDiskFreeSpaceExW(mount.c_str(), &available, &total, &free) || total.QuadPart == 0) {
    return std::nullopt;
  }
  codec::FilesystemInfo f;
  f.mount = clip_text(rmm::win::to_utf8(mount));
  f.fstype = file_system_name(mount);
  f.device = clip_text(rmm::win::to_utf8(volume));
  f.total_bytes = total.QuadPart;
  f.used_bytes = total.QuadPart - std::min(free.QuadPart, total.QuadPart);
  return f;
}

}  // namespace

// Fixed drive letters first, then fixed volumes mounted only on a folder, one entry per volume so
// a volume mounted twice counts once. Windows has no inode counts: inodes_* stay 0.
Status collect_filesystems(SamplerState&, codec::MetricsInfo& out) {
  auto roots = drive_roots();
  if (!roots) return std::unexpected(roots.error());
  std::vector<codec::FilesystemInfo> list;
  std::set<std::wstring> seen;
  for (const auto& root : *roots) {
    if (list.size() >= kMaxFilesystems) break;
    if (::GetDriveTypeW(root.c_str()) != DRIVE_FIXED) continue;
    const std::wstring volume = volume_of(root);
    if (!volume.empty() && !seen.insert(volume).second) continue;
    if (auto f = read_volume(root, volume)) list.push_back(std::move(*f));
  }
  auto volumes = volume_names();
  if (!volumes) return std::unexpected(volumes.error());
  for (const auto& volume : *volumes) {
    if (list.size() >= kMaxFilesystems) break;
    if (seen.contains(volume) || ::GetDriveTypeW(volume.c_str()) != DRIVE_FIXED) continue;
    const auto paths = mount_paths(volume);
    if (paths.empty()) continue;  // mounted nowhere: the EFI and recovery partitions
    seen.insert(volume);
    if (auto f = read_volume(paths.front(), volume)) list.push_back(std::move(*f));
  }
  out.filesystems = std::move(list);
  return {};
}

}  // namespace rmm::agent::platform
