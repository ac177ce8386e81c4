#include "common/platform/windows/command_line.h"

#include "common/platform/windows/wide_text.h"

namespace rmm::win {

std::wstring quote_argument(std::wstring_view arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring_view::npos) {
    return std::wstring(arg);
  }
  std::wstring out = L"\"";
  std::size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    // Backslashes before a quote (ours or the closing one) are doubled; elsewhere literal.
    out.append(c == L'"' ? backslashes * 2 + 1 : backslashes, L'\\');
    backslashes = 0;
    out.push_back(c);
  }
  out.append(backslashes * 2, L'\\');
  out.push_back(L'"');
  return out;
}

Result<std::wstring> command_line(const std::vector<std::string>& argv) {
  std::wstring line;
  for (const auto& arg : argv) {
    auto wide = to_wide(arg);
    if (!wide) return std::unexpected(with_context(wide.error(), "command line"));
    if (!line.empty()) line.push_back(L' ');
    line += quote_argument(*wide);
  }
  return line;
}

}  // namespace rmm::win
