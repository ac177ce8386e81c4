// How script commands run on Linux and macOS: the script file as it was sent, run by its
// interpreter (`/bin/sh <file>` unless the command names another).
#include "agent/platform/process.h"

namespace rmm::agent::platform {

ScriptFile script_file(ScriptLanguage, std::string_view, std::string_view script) {
  return {.suffix = "", .text = std::string(script)};
}

Result<std::vector<std::string>> script_argv(ScriptLanguage language,
                                             const std::string& interpreter,
                                             const std::string& script_path) {
  if (language == ScriptLanguage::kPowerShell) {
    if (auto why = powershell_unavailable_reason()) return fail(Error::Code::kNotSupported, *why);
  }
  if (language == ScriptLanguage::kCmd) {
    if (auto why = cmd_unavailable_reason()) return fail(Error::Code::kNotSupported, *why);
  }
  return std::vector<std::string>{interpreter, script_path};
}

Result<std::string> default_shell() {
  return find_program("/bin/sh", "");
}

bool is_absolute_path(std::string_view path) {
  return path.starts_with('/');
}

std::string default_working_dir() {
  return "/";
}

}  // namespace rmm::agent::platform
