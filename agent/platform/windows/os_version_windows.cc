#include "agent/platform/windows/os_version_windows.h"

#include <fmt/format.h>

#include "agent/platform/text_limits.h"
#include "agent/platform/windows/registry_read_windows.h"
#include "agent/platform/windows/sdk_windows.h"
#include "common/platform/windows/wide_text.h"

extern "C" NTSTATUS NTAPI RtlGetVersion(PRTL_OSVERSIONINFOW version);

namespace rmm::agent::platform {
namespace {

constexpr wchar_t kCurrentVersion[] = L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
// Windows 11 kept "Windows 10" in ProductName; its builds start here.
constexpr DWORD kFirstWindows11Build = 22000;

std::string value_or_empty(const Result<RegistryKey>& key, const wchar_t* name) {
  if (!key) return {};
  auto v = key->string(name);
  return v ? clip_text(*v) : std::string();
}

}  // namespace

Result<WindowsVersion> read_windows_version() {
  RTL_OSVERSIONINFOEXW info{};
  info.dwOSVersionInfoSize = sizeof info;
  const NTSTATUS status = ::RtlGetVersion(reinterpret_cast<PRTL_OSVERSIONINFOW>(&info));
  if (!NT_SUCCESS(status)) {
    return failf("RtlGetVersion failed: NTSTATUS {:#010x}", static_cast<std::uint32_t>(status));
  }
  auto key = RegistryKey::open(HKEY_LOCAL_MACHINE, kCurrentVersion, KEY_WOW64_64KEY);
  WindowsVersion v;
  v.product_name = value_or_empty(key, L"ProductName");
  if (v.product_name.empty()) {
    v.product_name = info.wProductType == VER_NT_WORKSTATION ? "Windows" : "Windows Server";
  }
  if (info.dwBuildNumber >= kFirstWindows11Build && info.wProductType == VER_NT_WORKSTATION &&
      v.product_name.starts_with("Windows 10")) {
    v.product_name.replace(8, 2, "11");
  }
  v.display_version = value_or_empty(key, L"DisplayVersion");
  if (v.display_version.empty()) v.display_version = value_or_empty(key, L"ReleaseId");
  if (v.display_version.empty())
    v.display_version = clip_text(rmm::win::to_utf8(info.szCSDVersion));

  // UBR (update build revision) is the number after the build: what tells two patch levels of
  // one release apart.
  std::uint64_t revision = 0;
  if (key) revision = key->number(L"UBR").value_or(0);
  v.kernel = revision != 0 ? fmt::format("{}.{}.{}.{}", info.dwMajorVersion, info.dwMinorVersion,
                                         info.dwBuildNumber, revision)
                           : fmt::format("{}.{}.{}", info.dwMajorVersion, info.dwMinorVersion,
                                         info.dwBuildNumber);
  const std::string build = revision != 0 ? fmt::format("{}.{}", info.dwBuildNumber, revision)
                                          : fmt::format("{}", info.dwBuildNumber);
  v.pretty =
      clip_text(v.display_version.empty()
                    ? fmt::format("{} (build {})", v.product_name, build)
                    : fmt::format("{} {} (build {})", v.product_name, v.display_version, build));
  return v;
}

std::string computer_name(COMPUTER_NAME_FORMAT format) {
  DWORD size = 0;
  ::GetComputerNameExW(format, nullptr, &size);  // size includes the terminator
  if (size == 0) return {};
  std::wstring name(size, L'\0');
  if (!::GetComputerNameExW(format, name.data(), &size)) return {};
  name.resize(size);  // now without the terminator
  return clip_text(rmm::win::to_utf8(name));
}

std::string processor_model() {
  auto name = read_machine_string(L"HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0",
                                  L"ProcessorNameString");
  if (!name) return {};
  // Intel pads the brand string with leading spaces.
  const auto first = name->find_first_not_of(' ');
  return first == std::string::npos ? std::string() : clip_text(name->substr(first));
}

}  // namespace rmm::agent::platform
