// Space on every fixed volume that has a drive letter.
#include <vector>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/sdk_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

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

std::string file_system_name(const std::wstring& root) {
  wchar_t name[MAX_PATH + 1] = {};
  if (!::GetVolumeInformationW(root.c_str(), nullptr, 0, nullptr, nullptr, nullptr, name,
                               static_cast<DWORD>(std::size(name)))) {
    return {};
  }
  return clip_text(rmm::win::to_utf8(name));
}

// The volume's stable name, "\\?\Volume{GUID}\": what a drive letter points at.
std::string volume_name(const std::wstring& root) {
  wchar_t name[64] = {};
  if (!::GetVolumeNameForVolumeMountPointW(root.c_str(), name,
                                           static_cast<DWORD>(std::size(name)))) {
    return {};
  }
  return clip_text(rmm::win::to_utf8(name));
}

}  // namespace

// Limitations: volumes mounted only on a folder (no drive letter) are not listed; Windows has no
// inode counts, so inodes_* stay 0.
Status collect_filesystems(SamplerState&, codec::MetricsInfo& out) {
  auto roots = drive_roots();
  if (!roots) return std::unexpected(roots.error());
  std::vector<codec::FilesystemInfo> list;
  for (const auto& root : *roots) {
    if (list.size() >= kMaxFilesystems) break;
    if (::GetDriveTypeW(root.c_str()) != DRIVE_FIXED) continue;
    ULARGE_INTEGER available{}, total{}, free{};
    // A locked BitLocker volume or one being formatted has no figures: it is skipped, as Linux
    // skips a mount statvfs cannot read.
    if (!::GetDiskFreeSpaceExW(root.c_str(), &available, &total, &free) || total.QuadPart == 0) {
      continue;
    }
    codec::FilesystemInfo f;
    f.mount = clip_text(rmm::win::to_utf8(root));
    f.fstype = file_system_name(root);
    f.device = volume_name(root);
    f.total_bytes = total.QuadPart;
    f.used_bytes = total.QuadPart - std::min(free.QuadPart, total.QuadPart);
    list.push_back(std::move(f));
  }
  out.filesystems = std::move(list);
  return {};
}

}  // namespace rmm::agent::platform
