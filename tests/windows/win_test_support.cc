#include "tests/windows/win_test_support.h"

#include <atomic>

#include "common/platform/windows/windows_api.h"

namespace rmm::wintest {
namespace {

std::filesystem::path own_dir() {
  std::wstring buffer(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = ::GetModuleFileNameW(nullptr, buffer.data(), static_cast<DWORD>(buffer.size()));
    if (n < buffer.size()) {
      buffer.resize(n);
      break;
    }
    buffer.resize(buffer.size() * 2);
  }
  return std::filesystem::path(buffer).parent_path();
}

}  // namespace

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          (L"rmm-wintest-" + std::to_wstring(::GetCurrentProcessId()) + L"-" +
           std::to_wstring(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path cmd_exe() {
  wchar_t dir[MAX_PATH];
  const UINT n = ::GetSystemDirectoryW(dir, MAX_PATH);
  return std::filesystem::path(std::wstring(dir, n)) / L"cmd.exe";
}

bool under_wine() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

std::filesystem::path stop_helper_exe() {
  return own_dir() / L"rmm-test-stop-helper.exe";
}

}  // namespace rmm::wintest
