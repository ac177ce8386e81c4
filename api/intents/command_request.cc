#include "api/intents/command_request.h"

#include <fmt/format.h>

#include <set>

#include "api/intents/json_input.h"
#include "api/intents/registry_request.h"

namespace rmm::api::intents {
namespace {

std::unexpected<Error> bad(std::string message) {
  return fail(Error::Code::kInvalidInput, std::move(message));
}

// Cuts at a UTF-8 boundary at or below `max` bytes.
std::string truncate_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

Result<codec::CommandAction> parse_action(const Body& body) {
  auto kind = body.required_text("kind", 32);
  if (!kind) return std::unexpected(kind.error());
  auto script = body.text("script", kMaxScriptBytes, true);
  if (!script) return std::unexpected(script.error());
  auto interpreter = body.text("interpreter", 64);
  if (!interpreter) return std::unexpected(interpreter.error());
  auto argv = body.strings("argv", kMaxArgs, kMaxArgBytes);
  if (!argv) return std::unexpected(argv.error());

  auto only = [&](std::initializer_list<std::string_view> allowed) -> Status {
    for (std::string_view field :
         {"script", "interpreter", "argv", "version", "sha256", "allow_downgrade", "op", "hive",
          "key", "name", "value", "pid"}) {
      if (body.has(field) && std::find(allowed.begin(), allowed.end(), field) == allowed.end()) {
        return bad(fmt::format("'{}' does not apply to a {} command", field, *kind));
      }
    }
    return {};
  };

  if (*kind == "shell") {
    if (auto s = only({"script", "interpreter"}); !s) return std::unexpected(s.error());
    if (!*script || (*script)->empty()) return bad("a shell command needs 'script'");
    std::string interp = interpreter->value_or("");
    for (char c : interp) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '+' || c == '-';
      if (!ok) return bad("'interpreter' must be a program name (like bash or python3)");
    }
    return codec::ShellSpec{std::move(**script), std::move(interp)};
  }
  // Windows agents only: elsewhere the agent rejects them with the reason.
  if (*kind == "cmd" || *kind == "powershell") {
    if (auto s = only({"script"}); !s) return std::unexpected(s.error());
    if (!*script || (*script)->empty()) {
      return bad(fmt::format("a {} command needs 'script'", *kind));
    }
    if (*kind == "cmd") return codec::CmdSpec{std::move(**script)};
    return codec::PowerShellSpec{std::move(**script)};
  }
  if (*kind == "registry") {
    if (auto s = only({"op", "hive", "key", "name", "value"}); !s) {
      return std::unexpected(s.error());
    }
    auto spec = parse_registry_request(body);
    if (!spec) return std::unexpected(spec.error());
    return std::move(*spec);
  }
  if (*kind == "exec") {
    if (auto s = only({"argv"}); !s) return std::unexpected(s.error());
    if (!*argv || (*argv)->empty() || (*argv)->front().empty()) {
      return bad("an exec command needs 'argv' with the program first");
    }
    return codec::ExecSpec{std::move(**argv)};
  }
  if (*kind == "update_agent") {
    // The agent hands it to rmm-updater, which verifies everything (docs/updates.md); explicit,
    // so the auto_update policy does not apply.
    if (auto s = only({"version", "sha256", "allow_downgrade"}); !s) {
      return std::unexpected(s.error());
    }
    auto version = body.required_text("version", 64);
    if (!version) return std::unexpected(version.error());
    for (char c : *version) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '+' || c == '-';
      if (!ok) return bad("'version' must be 1..64 characters of [0-9A-Za-z.+-]");
    }
    auto sha = body.text("sha256", 64);
    if (!sha) return std::unexpected(sha.error());
    const std::string digest = sha->value_or("");
    if (!digest.empty() && (digest.size() != 64 ||
                            digest.find_first_not_of("0123456789abcdef") != std::string::npos)) {
      return bad("'sha256' must be 64 lower-case hex digits");
    }
    auto downgrade = body.boolean("allow_downgrade");
    if (!downgrade) return std::unexpected(downgrade.error());
    return codec::UpdateAgentSpec{std::move(*version), "", digest, downgrade->value_or(false)};
  }
  if (*kind == "kill_process") {
    // A pid and the name the process list showed with it: the agent stops the process only
    // while both still match (a reused pid is left alone).
    if (auto s = only({"pid", "name"}); !s) return std::unexpected(s.error());
    auto pid = body.integer("pid", 2, 4'294'967'295LL);
    if (!pid) return std::unexpected(pid.error());
    if (!*pid) return bad("a kill_process command needs 'pid'");
    auto name = body.required_text("name", 128);
    if (!name) return std::unexpected(name.error());
    if (name->empty()) return bad("a kill_process command needs the process's 'name'");
    return codec::KillProcessSpec{static_cast<std::uint32_t>(**pid), std::move(*name)};
  }
  if (auto s = only({}); !s) return std::unexpected(s.error());
  if (*kind == "refresh_inventory") return codec::RefreshInventorySpec{};
  if (*kind == "collect_processes") return codec::CollectProcessesSpec{};
  // Choosing "reboot" in the API is the confirmation the agent asks for.
  if (*kind == "reboot") return codec::RebootSpec{.confirm = true};
  // The keys come from rmm-api's own command-keys directory, never from the request
  // (docs/command-signing.md): post_commands fills them in.
  if (*kind == "trust_command_keys") return codec::TrustCommandKeysSpec{};
  return bad(
      "'kind' must be shell, exec, cmd, powershell, registry, refresh_inventory, "
      "collect_processes, kill_process, reboot, update_agent or trust_command_keys");
}

// The first line of a script command's script; nullopt for other commands.
std::optional<std::string_view> script_of(const codec::CommandAction& action) {
  if (const auto* a = std::get_if<codec::ShellSpec>(&action)) return a->script;
  if (const auto* a = std::get_if<codec::CmdSpec>(&action)) return a->script;
  if (const auto* a = std::get_if<codec::PowerShellSpec>(&action)) return a->script;
  return std::nullopt;
}

}  // namespace

std::string command_summary(const codec::CommandAction& action) {
  if (auto text = script_of(action)) {
    std::string_view script = *text;
    auto start = script.find_first_not_of(" \t\r\n");
    script = start == std::string_view::npos ? std::string_view{} : script.substr(start);
    return truncate_utf8(script.substr(0, script.find_first_of("\r\n")), kMaxSummaryBytes);
  }
  if (const auto* registry = std::get_if<codec::RegistrySpec>(&action)) {
    // What the audit log shows: the operation and the key or value, never the data.
    return truncate_utf8(fmt::format("registry {} {}", codec::registry_op_name(registry->op),
                                     codec::registry_target(*registry)),
                         kMaxSummaryBytes);
  }
  if (const auto* exec = std::get_if<codec::ExecSpec>(&action)) {
    std::string joined;
    for (const auto& arg : exec->argv) {
      if (!joined.empty()) joined += ' ';
      joined += arg;
      if (joined.size() > kMaxSummaryBytes) break;
    }
    return truncate_utf8(joined, kMaxSummaryBytes);
  }
  if (const auto* update = std::get_if<codec::UpdateAgentSpec>(&action)) {
    return truncate_utf8("update to " + update->version, kMaxSummaryBytes);
  }
  if (const auto* kill = std::get_if<codec::KillProcessSpec>(&action)) {
    return truncate_utf8(fmt::format("kill process {} ({})", kill->pid, kill->name),
                         kMaxSummaryBytes);
  }
  return std::string(codec::command_kind(action));
}

Result<CommandRequest> parse_command_request(std::string_view text) {
  auto body =
      Body::parse(text, {"agent_ids", "site_id", "client_id", "kind", "script", "interpreter",
                         "argv", "timeout_s", "expires_in_s", "version", "sha256",
                         "allow_downgrade", "op", "hive", "key", "name", "value", "pid"});
  if (!body) return std::unexpected(body.error());
  CommandRequest req;

  int targets = static_cast<int>(body->has("agent_ids")) + static_cast<int>(body->has("site_id")) +
                static_cast<int>(body->has("client_id"));
  if (targets != 1) return bad("give exactly one of 'agent_ids', 'site_id' or 'client_id'");
  if (const auto* ids = body->raw("agent_ids")) {
    if (!ids->is_array()) return bad("'agent_ids' must be an array of UUID strings");
    const auto& arr = ids->get_array();
    if (arr.empty()) return bad("'agent_ids' must not be empty");
    if (arr.size() > kMaxCommandTargets) {
      return bad(fmt::format("'agent_ids' holds at most {} agents", kMaxCommandTargets));
    }
    std::set<UuidBytes> seen;
    for (const auto& item : arr) {
      auto bytes = parse_uuid_field("agent_ids", item);
      if (!bytes) return std::unexpected(bytes.error());
      if (seen.insert(*bytes).second) req.agents.emplace_back(*bytes);
    }
  }
  auto site = body->uuid("site_id");
  if (!site) return std::unexpected(site.error());
  if (*site) req.site = SiteId(**site);
  auto client = body->uuid("client_id");
  if (!client) return std::unexpected(client.error());
  if (*client) req.client = ClientId(**client);

  auto action = parse_action(*body);
  if (!action) return std::unexpected(action.error());
  req.action = std::move(*action);
  if (std::holds_alternative<codec::KillProcessSpec>(req.action) && req.agents.size() != 1) {
    return bad(
        "a kill_process command names exactly one agent in 'agent_ids' (a pid is one "
        "machine's)");
  }
  auto timeout = body->integer("timeout_s", 1, kMaxTimeoutS);
  if (!timeout) return std::unexpected(timeout.error());
  if (*timeout) req.timeout_ms = static_cast<std::uint64_t>(**timeout) * 1000;
  auto expires = body->integer("expires_in_s", 1, kMaxExpiresInS);
  if (!expires) return std::unexpected(expires.error());
  if (*expires) req.expires_in = std::chrono::seconds(**expires);
  req.summary = command_summary(req.action);
  return req;
}

codec::CommandInfo command_for(const CommandRequest& request, const CommandId& id,
                               const AgentId& agent, std::string_view issuer, UnixNanos now) {
  codec::CommandInfo info;
  info.id = id;
  info.agent = agent;
  info.issued_at = now;
  info.expires_at =
      now + std::chrono::duration_cast<std::chrono::nanoseconds>(request.expires_in).count();
  info.issuer = std::string(issuer);
  info.timeout_ms = request.timeout_ms;
  info.action = request.action;
  return info;
}

}  // namespace rmm::api::intents
