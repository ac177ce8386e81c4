// How script commands run on Windows. A cmd script, and a shell script that names no other
// interpreter, runs in cmd.exe as a .cmd file; PowerShell runs a .ps1 file. Both are files rather
// than text on standard input: cmd.exe reads a script from standard input as if typed at a prompt
// (echoing a prompt per line, no labels or goto), and `powershell -Command -` reads it line by
// line, so a statement that spans lines needs an empty line to end it and a syntax error is
// reported per line rather than for the script.
#include <cctype>

#include "agent/platform/process.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::agent::platform {
namespace {

// The interpreter's file name in lower case, without ".exe".
std::string program_name(std::string_view interpreter) {
  const auto slash = interpreter.find_last_of("\\/");
  auto name =
      std::string(slash == std::string_view::npos ? interpreter : interpreter.substr(slash + 1));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.ends_with(".exe")) name.resize(name.size() - 4);
  return name;
}

bool is_cmd(std::string_view interpreter) {
  return program_name(interpreter) == "cmd";
}

// A shell command may name PowerShell (7: pwsh) as its interpreter: it runs the file with -File.
bool is_powershell(std::string_view interpreter) {
  const auto name = program_name(interpreter);
  return name == "powershell" || name == "pwsh";
}

// cmd.exe needs CRLF line ends (a label after a bare LF is not always found by goto).
std::string with_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

std::string system_directory() {
  wchar_t buf[MAX_PATH];
  const UINT n = ::GetSystemDirectoryW(buf, MAX_PATH);
  return n > 0 && n < MAX_PATH ? rmm::win::to_utf8(std::wstring_view(buf, n))
                               : std::string("C:\\Windows\\System32");
}

// /d: no AutoRun commands from the registry; /s /c: the rest is the command. The script is UTF-8
// like every text of GuruRMM: the console's code page is switched to UTF-8 before cmd.exe opens
// the script (it reads a batch file in the code page of that moment), and the programs the
// script runs then write UTF-8 too.
std::vector<std::string> cmd_argv(const std::string& cmd, const std::string& script_path) {
  return {cmd, "/d", "/s", "/c",
          fmt::format("\"{}\\chcp.com\" 65001 >nul & \"{}\"", system_directory(), script_path)};
}

}  // namespace

ScriptFile script_file(ScriptLanguage language, std::string_view interpreter,
                       std::string_view script) {
  if (language == ScriptLanguage::kCmd) return {.suffix = ".cmd", .text = with_crlf(script)};
  if (language == ScriptLanguage::kPowerShell || is_powershell(interpreter)) {
    // Windows PowerShell reads a script without a byte order mark in the ANSI code page.
    return {.suffix = ".ps1", .text = "\xEF\xBB\xBF" + std::string(script)};
  }
  if (!is_cmd(interpreter)) return {.suffix = "", .text = std::string(script)};
  return {.suffix = ".cmd", .text = with_crlf(script)};
}

Result<std::vector<std::string>> script_argv(ScriptLanguage language,
                                             const std::string& interpreter,
                                             const std::string& script_path) {
  if (language == ScriptLanguage::kCmd) {
    if (auto why = cmd_unavailable_reason()) return fail(Error::Code::kNotSupported, *why);
    return cmd_argv(system_directory() + "\\cmd.exe", script_path);
  }
  if (language == ScriptLanguage::kPowerShell) {
    if (auto why = powershell_unavailable_reason()) return fail(Error::Code::kNotSupported, *why);
    std::string quoted;  // a single-quoted PowerShell string: only ' needs doubling
    for (char c : script_path) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    // Output as UTF-8 (the console's OEM code page would lose what it cannot hold), then the
    // script's own exit code.
    return std::vector<std::string>{
        system_directory() + "\\WindowsPowerShell\\v1.0\\powershell.exe",
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-Command",
        "[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false; & '" + quoted +
            "'; exit $LASTEXITCODE"};
  }
  if (is_powershell(interpreter)) {
    return std::vector<std::string>{interpreter,        "-NoProfile", "-NonInteractive",
                                    "-ExecutionPolicy", "Bypass",     "-File",
                                    script_path};
  }
  if (is_cmd(interpreter)) return cmd_argv(interpreter, script_path);
  return std::vector<std::string>{interpreter, script_path};
}

Result<std::string> default_shell() {
  return find_program(system_directory() + "\\cmd.exe", "");
}

bool is_absolute_path(std::string_view path) {
  const bool drive = path.size() >= 3 && path[1] == ':' && (path[2] == '\\' || path[2] == '/');
  return drive || path.starts_with("\\\\");
}

std::string default_working_dir() {
  // The system drive's root, as "/" on Linux.
  return system_directory().substr(0, 3);
}

}  // namespace rmm::agent::platform
