#include "common/platform/windows/command_line.h"

#include <algorithm>
#include <cwctype>

#include "common/platform/windows/wide_text.h"

namespace rmm::win {
namespace {

bool equals_ignoring_case(std::wstring_view a, std::wstring_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](wchar_t x, wchar_t y) { return std::towlower(x) == std::towlower(y); });
}

bool is_cmd(std::wstring_view program) {
  const auto slash = program.find_last_of(L"\\/");
  const auto name = slash == std::wstring_view::npos ? program : program.substr(slash + 1);
  return equals_ignoring_case(name, L"cmd.exe") || equals_ignoring_case(name, L"cmd");
}

// The program name is parsed by simpler rules (no escapes: a quote only starts or ends a quoted
// part), and Windows file names cannot hold quotes, so quotes around it suffice.
std::wstring quote_program(std::wstring_view program) {
  if (!program.empty() && program.find_first_of(L" \t") == std::wstring_view::npos) {
    return std::wstring(program);
  }
  return L"\"" + std::wstring(program) + L"\"";
}

}  // namespace

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
    if (c == L'"') {
      // 2n backslashes become n, and one more makes the quote a literal one.
      out.append(backslashes * 2 + 1, L'\\');
    } else {
      out.append(backslashes, L'\\');
    }
    backslashes = 0;
    out.push_back(c);
  }
  out.append(backslashes * 2, L'\\');  // they precede the closing quote
  out.push_back(L'"');
  return out;
}

Result<std::wstring> build_command_line(const std::vector<std::string>& argv) {
  if (argv.empty()) return fail(Error::Code::kInvalidInput, "no program to run");
  std::vector<std::wstring> wide;
  wide.reserve(argv.size());
  for (const auto& a : argv) {
    if (a.find('\0') != std::string::npos) {
      return fail(Error::Code::kInvalidInput, "an argument contains a NUL character");
    }
    auto w = rmm::win::to_wide(a);
    if (!w) return std::unexpected(w.error());
    wide.push_back(std::move(*w));
  }
  if (wide[0].empty()) return fail(Error::Code::kInvalidInput, "no program to run");
  std::wstring line = quote_program(wide[0]);
  // cmd.exe /s /c: everything after /c is a command line for cmd.exe, as `sh -c` takes one.
  std::size_t command_at = wide.size();
  if (is_cmd(wide[0])) {
    bool strip = false;
    for (std::size_t i = 1; i < wide.size(); ++i) {
      if (equals_ignoring_case(wide[i], L"/s")) strip = true;
      if (equals_ignoring_case(wide[i], L"/c") || equals_ignoring_case(wide[i], L"/k")) {
        if (strip) command_at = i + 1;
        break;
      }
    }
  }
  for (std::size_t i = 1; i < wide.size() && i < command_at; ++i) {
    line += L' ';
    line += quote_argument(wide[i]);
  }
  if (command_at < wide.size()) {
    line += L" \"";
    for (std::size_t i = command_at; i < wide.size(); ++i) {
      if (i > command_at) line += L' ';
      line += wide[i];
    }
    line += L'"';
  }
  return line;
}

}  // namespace rmm::win
