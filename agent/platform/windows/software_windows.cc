#include "agent/platform/windows/software_windows.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/registry_read_windows.h"

namespace rmm::agent::platform {
namespace {

constexpr wchar_t kUninstall[] = L"SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

struct View {
  REGSAM flag;
  const char* arch;  // what a program registered in this view is built for
};
// 64-bit programs register in the native view, 32-bit ones in WOW6432Node.
constexpr View kViews[] = {{KEY_WOW64_64KEY, "x64"}, {KEY_WOW64_32KEY, "x86"}};

bool is_listed(const RegistryKey& entry) {
  if (entry.number(L"SystemComponent").value_or(0) == 1) return false;
  if (entry.string(L"ParentKeyName")) return false;
  return true;
}

}  // namespace

Status scan_uninstall_key(HKEY root, std::wstring_view path, REGSAM view, std::string_view arch,
                          const UninstallLimits& limits, UninstallScan& scan) {
  auto key = RegistryKey::open(root, path, view);
  if (!key) return std::unexpected(key.error());
  auto names = key->subkeys();
  if (!names) return std::unexpected(with_context(names.error(), "Uninstall"));
  for (const auto& name : *names) {
    auto entry = key->child(name);
    if (!entry || !is_listed(*entry)) continue;
    auto display_name = entry->string(L"DisplayName");
    if (!display_name || display_name->empty()) continue;
    codec::PackageInfo p{clip_text(*display_name),
                         clip_text(entry->string(L"DisplayVersion").value_or("")),
                         std::string(arch)};
    const std::size_t size = p.name.size() + p.version.size() + p.arch.size();
    if (scan.packages.size() >= limits.max_packages || scan.bytes + size > limits.max_bytes) {
      scan.truncated = true;
      break;
    }
    scan.bytes += size;
    scan.packages.push_back(std::move(p));
  }
  return {};
}

// Limitations: per-user installs (HKEY_CURRENT_USER of each profile) and Store (MSIX) apps are
// not listed. The publisher has no field in the Inventory schema yet.
Status collect_packages(codec::InventoryInfo& out) {
  UninstallScan scan;
  for (const auto& view : kViews) {
    if (scan.truncated) break;
    auto status = scan_uninstall_key(HKEY_LOCAL_MACHINE, kUninstall, view.flag, view.arch,
                                     {kMaxPackages, kMaxPackageListBytes}, scan);
    // A view without the key (a fresh system with nothing installed) is not an error.
    if (!status && status.error().code != Error::Code::kNotFound) {
      return std::unexpected(status.error());
    }
  }
  std::sort(scan.packages.begin(), scan.packages.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.version, a.arch) < std::tie(b.name, b.version, b.arch);
  });
  out.package_manager = "windows-uninstall";
  out.packages = std::move(scan.packages);
  out.packages_truncated = scan.truncated;
  return {};
}

}  // namespace rmm::agent::platform
