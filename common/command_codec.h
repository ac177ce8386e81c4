// Building and reading commands (schemas/commands.fbs) and building the command lifecycle events
// (the Command* payloads of schemas/events.fbs).
//
// read_command() turns a verified CommandEnvelope into plain values, so the agent never touches
// the FlatBuffer after the message it arrived in is gone. Bounds on the values (sizes, timeouts)
// are the agent's policy and are checked there (agent/commands/command_check.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/event_codec.h"
#include "common/registry_spec.h"

namespace rmm::codec {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct ShellSpec {
  std::string script;
  std::string interpreter;  // empty or "sh": /bin/sh
};
struct ExecSpec {
  std::vector<std::string> argv;
};
struct PowerShellSpec {
  std::string script;
};
struct RefreshInventorySpec {};
struct CollectProcessesSpec {};
struct ApplyConfigSpec {
  KeyValues settings;
};
struct RebootSpec {
  bool confirm = false;
};
struct UpdateAgentSpec {
  std::string version;
  std::string url;
  std::string sha256;
  bool allow_downgrade = false;
};
struct CancelSpec {
  CommandId target;
};
struct TrustCommandKeysSpec {
  std::vector<std::string> public_keys;  // hex, as sent
};
struct CmdSpec {
  std::string script;
};
// RegistrySpec: common/registry_spec.h.
struct KillProcessSpec {
  std::uint32_t pid = 0;
  std::string name;  // the process's name as the agent lists it; must still match
};

// One member per CommandPayload union member, in the same order.
using CommandAction =
    std::variant<ShellSpec, ExecSpec, PowerShellSpec, RefreshInventorySpec, CollectProcessesSpec,
                 ApplyConfigSpec, RebootSpec, UpdateAgentSpec, CancelSpec, TrustCommandKeysSpec,
                 CmdSpec, RegistrySpec, KillProcessSpec>;

struct CommandInfo {
  CommandId id;
  AgentId agent;  // required by agents (nil: refused)
  UnixNanos issued_at = 0;
  UnixNanos expires_at = 0;  // 0: never
  std::string issuer;
  std::uint64_t timeout_ms = 0;        // 0: the agent's default
  std::uint64_t output_cap_bytes = 0;  // 0: the agent's default
  std::string working_dir;
  KeyValues env;
  CommandAction action;
};

std::vector<std::uint8_t> build_command(const CommandInfo& command);
// The values of a verified envelope (see verify_command). Fails when the payload is a union
// member this build does not know, or absent, and when a registry command names an operation,
// hive or value type this build does not know (or a set carries no value). Bounds are checked
// by the receiver (check_registry_spec, agent/commands/command_check.h).
Result<CommandInfo> read_command(const schema::CommandEnvelope& envelope);

// "shell", "exec", "powershell", "refresh_inventory", "collect_processes", "apply_config",
// "reboot", "update_agent", "cancel", "trust_command_keys", "cmd", "registry", "kill_process";
// "unknown" for NONE
// or a member this build does not know.
std::string_view command_kind(schema::CommandPayload type);
std::string_view command_kind(const CommandAction& action);

// --- lifecycle events (see schemas/events.fbs for the meaning of each field) ---

struct CommandReceivedInfo {
  CommandId command;
  std::string kind;
  std::string issuer;
  std::uint64_t stream_seq = 0;
};

struct CommandOutputInfo {
  CommandId command;
  schema::OutputStream stream = schema::OutputStream::Stdout;
  std::uint32_t chunk_index = 0;
  std::uint64_t offset = 0;
  std::span<const std::uint8_t> data;
  bool truncated = false;
};

struct CommandCompletedInfo {
  CommandId command;
  std::int32_t exit_code = 0;
  std::int32_t term_signal = 0;
  std::uint64_t duration_ms = 0;
  std::uint64_t stdout_bytes = 0;
  std::uint64_t stderr_bytes = 0;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
};

struct CommandTimedOutInfo {
  CommandId command;
  std::uint64_t timeout_ms = 0;
  std::uint64_t duration_ms = 0;
  bool killed = false;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
};

struct CommandCancelledInfo {
  CommandId command;
  CommandId cancel_command;
  bool was_running = false;
  std::uint64_t duration_ms = 0;
};

std::vector<std::uint8_t> build_command_received(const AgentEventHeader& h,
                                                 const CommandReceivedInfo& v);
std::vector<std::uint8_t> build_command_started(const AgentEventHeader& h, const CommandId& id,
                                                std::uint32_t pid);
std::vector<std::uint8_t> build_command_output(const AgentEventHeader& h,
                                               const CommandOutputInfo& v);
std::vector<std::uint8_t> build_command_completed(const AgentEventHeader& h,
                                                  const CommandCompletedInfo& v);
std::vector<std::uint8_t> build_command_failed(const AgentEventHeader& h, const CommandId& id,
                                               std::string_view reason);
std::vector<std::uint8_t> build_command_timed_out(const AgentEventHeader& h,
                                                  const CommandTimedOutInfo& v);
std::vector<std::uint8_t> build_command_cancelled(const AgentEventHeader& h,
                                                  const CommandCancelledInfo& v);
std::vector<std::uint8_t> build_command_expired(const AgentEventHeader& h, const CommandId& id,
                                                UnixNanos expires_at);
std::vector<std::uint8_t> build_command_rejected(const AgentEventHeader& h, const CommandId& id,
                                                 std::string_view reason);
std::vector<std::uint8_t> build_command_interrupted(const AgentEventHeader& h, const CommandId& id,
                                                    std::string_view reason);

}  // namespace rmm::codec
