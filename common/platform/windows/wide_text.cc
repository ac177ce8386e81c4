#include "common/platform/windows/wide_text.h"

#include <fmt/format.h>

#include "common/platform/windows/windows_api.h"

namespace rmm::win {

std::string to_utf8(std::wstring_view wide) {
  if (wide.empty()) return {};
  const int size = static_cast<int>(wide.size());
  const int n = ::WideCharToMultiByte(CP_UTF8, 0, wide.data(), size, nullptr, 0, nullptr, nullptr);
  if (n <= 0) return {};
  std::string out(static_cast<std::size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, wide.data(), size, out.data(), n, nullptr, nullptr);
  return out;
}

Result<std::wstring> to_wide(std::string_view utf8) {
  if (utf8.empty()) return std::wstring();
  const int size = static_cast<int>(utf8.size());
  const int n = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), size, nullptr, 0);
  if (n <= 0) return fail(Error::Code::kInvalidInput, "text is not valid UTF-8");
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), size, out.data(), n);
  return out;
}

std::string code_page_to_utf8(std::string_view bytes, std::uint32_t code_page) {
  if (bytes.empty()) return {};
  const UINT cp = code_page == 0 ? ::GetOEMCP() : code_page;
  const int size = static_cast<int>(bytes.size());
  const int n = ::MultiByteToWideChar(cp, 0, bytes.data(), size, nullptr, 0);
  if (n <= 0) return std::string(bytes);
  std::wstring wide(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(cp, 0, bytes.data(), size, wide.data(), n);
  return to_utf8(wide);
}

std::string error_text(std::uint32_t code) {
  wchar_t* buffer = nullptr;
  const DWORD n = ::FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US),
      reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  std::string text = n > 0 ? to_utf8(std::wstring_view(buffer, n)) : std::string();
  if (buffer != nullptr) ::LocalFree(buffer);
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '.')) {
    text.pop_back();
  }
  return text.empty() ? fmt::format("error {}", code) : text;
}

Error win32_error(std::string_view what, std::uint32_t code) {
  return Error{Error::Code::kGeneric,
               fmt::format("{}: {} (Win32 error {})", what, error_text(code), code)};
}

Error last_error(std::string_view what) {
  return win32_error(what, ::GetLastError());
}

}  // namespace rmm::win
