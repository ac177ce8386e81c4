// Installed programs, as "Apps & features" lists them: the Uninstall keys of both registry views.
#include <algorithm>
#include <string>
#include <vector>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/registry_read_windows.h"
#include "agent/platform/windows/sdk_windows.h"

namespace rmm::agent::platform {
namespace {

constexpr wchar_t kUninstall[] = L"SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

struct View {
  REGSAM flag;
  const char* arch;  // what a program registered in this view is built for
};
// 64-bit programs register in the native view, 32-bit ones in WOW6432Node.
constexpr View kViews[] = {{KEY_WOW64_64KEY, "x64"}, {KEY_WOW64_32KEY, "x86"}};

// Entries the Programs list hides: parts of a larger product (SystemComponent) and updates
// filed under the product they patch (ParentKeyName).
bool is_listed(const RegistryKey& entry) {
  if (entry.number(L"SystemComponent").value_or(0) == 1) return false;
  if (entry.string(L"ParentKeyName")) return false;
  return true;
}

}  // namespace

// Limitations: per-user installs (HKEY_CURRENT_USER of each profile) and Store (MSIX) apps are
// not listed. The publisher has no field in the Inventory schema yet.
Status collect_packages(codec::InventoryInfo& out) {
  std::vector<codec::PackageInfo> packages;
  bool truncated = false;
  std::size_t bytes = 0;
  std::string first_error;
  for (const auto& view : kViews) {
    auto root = RegistryKey::open(HKEY_LOCAL_MACHINE, kUninstall, view.flag);
    if (!root) {
      // A 32-bit view is absent only where Windows itself is 32-bit; none is a real error.
      if (root.error().code != Error::Code::kNotFound && first_error.empty()) {
        first_error = root.error().message;
      }
      continue;
    }
    auto names = root->subkeys();
    if (!names) return std::unexpected(with_context(names.error(), "Uninstall"));
    for (const auto& name : *names) {
      auto entry = root->child(name);
      if (!entry || !is_listed(*entry)) continue;
      auto display_name = entry->string(L"DisplayName");
      if (!display_name || display_name->empty()) continue;
      codec::PackageInfo p{clip_text(*display_name),
                           clip_text(entry->string(L"DisplayVersion").value_or("")), view.arch};
      const std::size_t size = p.name.size() + p.version.size() + p.arch.size();
      if (packages.size() >= kMaxPackages || bytes + size > kMaxPackageListBytes) {
        truncated = true;
        break;
      }
      bytes += size;
      packages.push_back(std::move(p));
    }
  }
  if (packages.empty() && !first_error.empty()) return fail(first_error);
  std::sort(packages.begin(), packages.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.version, a.arch) < std::tie(b.name, b.version, b.arch);
  });
  out.package_manager = "windows-uninstall";
  out.packages = std::move(packages);
  out.packages_truncated = truncated;
  return {};
}

}  // namespace rmm::agent::platform
