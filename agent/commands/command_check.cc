#include "agent/commands/command_check.h"

#include <fmt/format.h>

#include <type_traits>

#include "agent/platform/process.h"

namespace rmm::agent {
namespace {

constexpr std::size_t kMaxNameBytes = 128;
constexpr std::size_t kMaxPathBytes = 4096;

bool is_env_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool is_interpreter_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

std::unexpected<Error> reject(std::string reason) {
  return fail(Error::Code::kInvalidInput, std::move(reason));
}

// Adds `name=value`, replacing an entry of the same name.
void set_env(std::vector<std::string>& env, std::string_view name, std::string_view value) {
  std::string prefix = fmt::format("{}=", name);
  for (auto& e : env) {
    if (e.starts_with(prefix)) {
      e = prefix + std::string(value);
      return;
    }
  }
  env.push_back(prefix + std::string(value));
}

Status check_action(PreparedCommand& p, const CommandLimits& limits) {
  return std::visit(
      [&](const auto& a) -> Status {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, codec::ShellSpec>) {
          if (a.script.empty()) return reject("shell command without a script");
          if (a.script.size() > limits.max_script_bytes) {
            return reject(fmt::format("script larger than {} bytes", limits.max_script_bytes));
          }
          std::string name = a.interpreter.empty() ? "sh" : a.interpreter;
          if (!is_interpreter_name(name)) {
            return reject(fmt::format("interpreter '{}' is not a program name", name));
          }
          auto found = name == "sh" ? platform::default_shell()
                                    : platform::find_program(name, path_of(p.env));
          if (!found) return reject(fmt::format("interpreter '{}' is not installed", name));
          p.interpreter = *found;
        } else if constexpr (std::is_same_v<T, codec::ExecSpec>) {
          if (a.argv.empty() || a.argv[0].empty()) return reject("exec command without a program");
          if (a.argv.size() > limits.max_args) {
            return reject(fmt::format("more than {} arguments", limits.max_args));
          }
          for (const auto& arg : a.argv) {
            if (has_nul(arg)) return reject("an argument contains a NUL byte");
          }
        } else if constexpr (std::is_same_v<T, codec::PowerShellSpec>) {
          if (auto why = platform::powershell_unavailable_reason()) return reject(*why);
          if (a.script.empty()) return reject("powershell command without a script");
          if (a.script.size() > limits.max_script_bytes) {
            return reject(fmt::format("script larger than {} bytes", limits.max_script_bytes));
          }
        } else if constexpr (std::is_same_v<T, codec::CmdSpec>) {
          if (auto why = platform::cmd_unavailable_reason()) return reject(*why);
          if (a.script.empty()) return reject("cmd command without a script");
          if (a.script.size() > limits.max_script_bytes) {
            return reject(fmt::format("script larger than {} bytes", limits.max_script_bytes));
          }
        } else if constexpr (std::is_same_v<T, codec::RegistrySpec>) {
          // Not refused off Windows here: the registry backend answers with its reason, as the
          // command's error (docs/agent.md, registry editor).
          if (auto s = codec::check_registry_spec(a); !s) {
            return reject("registry command: " + s.error().message);
          }
        } else if constexpr (std::is_same_v<T, codec::ApplyConfigSpec>) {
          if (a.settings.empty()) return reject("apply_config without settings");
          if (a.settings.size() > limits.max_settings) {
            return reject(fmt::format("more than {} settings", limits.max_settings));
          }
          for (const auto& [key, value] : a.settings) {
            if (key.empty() || key.size() > kMaxNameBytes || has_nul(key) || has_nul(value) ||
                key.find_first_of("=\n") != std::string::npos ||
                value.find('\n') != std::string::npos) {
              return reject(fmt::format("invalid setting '{}'", key));
            }
          }
        } else if constexpr (std::is_same_v<T, codec::RebootSpec>) {
          if (!a.confirm) return reject("reboot refused: the command must set confirm=true");
        } else if constexpr (std::is_same_v<T, codec::UpdateAgentSpec>) {
          if (!limits.update_hook_installed) return reject("updater not installed");
        } else if constexpr (std::is_same_v<T, codec::CancelSpec>) {
          if (a.target.is_nil()) return reject("cancel without a target command id");
          if (a.target == p.info.id) return reject("a command cannot cancel itself");
        } else if constexpr (std::is_same_v<T, codec::KillProcessSpec>) {
          if (a.pid == 0) return reject("kill_process without a pid");
          if (a.name.empty() || a.name.size() > kMaxNameBytes || has_nul(a.name)) {
            return reject("kill_process needs the process's name");
          }
        }
        return {};
      },
      p.info.action);
}

}  // namespace

bool runs_program(const codec::CommandAction& action) {
  return std::holds_alternative<codec::ShellSpec>(action) ||
         std::holds_alternative<codec::ExecSpec>(action) ||
         std::holds_alternative<codec::PowerShellSpec>(action) ||
         std::holds_alternative<codec::CmdSpec>(action);
}

std::string path_of(const std::vector<std::string>& env) {
  for (const auto& e : env) {
    if (e.starts_with("PATH=")) return e.substr(5);
  }
  return {};
}

Result<PreparedCommand> check_command(codec::CommandInfo info, const AgentId& self,
                                      const CommandLimits& limits) {
  if (info.agent.is_nil()) return reject("command names no agent");
  if (info.agent != self) return reject(fmt::format("command is for agent {}", info.agent.str()));
  const auto lifetime_ns = std::chrono::nanoseconds(limits.max_lifetime).count();
  if (info.issued_at <= 0) return reject("command has no issue time");
  if (info.expires_at == 0) return reject("command has no expiry");
  if (info.expires_at > info.issued_at && info.expires_at - info.issued_at > lifetime_ns) {
    return reject(fmt::format("command expires more than {} h after it was issued",
                              limits.max_lifetime.count()));
  }
  PreparedCommand p;
  using std::chrono::milliseconds;
  if (info.timeout_ms > static_cast<std::uint64_t>(limits.max_timeout.count())) {
    return reject(fmt::format("timeout_ms {} above the maximum {}", info.timeout_ms,
                              limits.max_timeout.count()));
  }
  p.timeout = info.timeout_ms == 0 ? limits.default_timeout
                                   : milliseconds(static_cast<std::int64_t>(info.timeout_ms));
  if (info.output_cap_bytes > limits.max_output_cap) {
    return reject(fmt::format("output_cap_bytes {} above the maximum {}", info.output_cap_bytes,
                              limits.max_output_cap));
  }
  p.output_cap = info.output_cap_bytes == 0 ? limits.default_output_cap
                                            : static_cast<std::size_t>(info.output_cap_bytes);
  p.working_dir = info.working_dir.empty() ? platform::default_working_dir() : info.working_dir;
  if (!platform::is_absolute_path(p.working_dir) || p.working_dir.size() > kMaxPathBytes ||
      has_nul(p.working_dir)) {
    return reject("working_dir must be an absolute path");
  }
  if (info.env.size() > limits.max_env) {
    return reject(fmt::format("more than {} environment variables", limits.max_env));
  }
  p.env = platform::base_environment();
  std::size_t env_bytes = 0;
  for (const auto& [name, value] : info.env) {
    if (!is_env_name(name)) return reject(fmt::format("invalid environment name '{}'", name));
    if (has_nul(value)) return reject(fmt::format("environment value of {} has a NUL", name));
    env_bytes += name.size() + value.size() + 2;
    set_env(p.env, name, value);
  }
  if (env_bytes > limits.max_env_bytes) {
    return reject(fmt::format("environment larger than {} bytes", limits.max_env_bytes));
  }
  p.info = std::move(info);
  if (auto s = check_action(p, limits); !s) return std::unexpected(s.error());
  return p;
}

}  // namespace rmm::agent
