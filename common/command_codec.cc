#include "common/command_codec.h"

#include <fmt/format.h>

#include <array>
#include <type_traits>

namespace rmm::codec {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

// Must list the kinds in CommandPayload order (index = union type - 1); append only.
constexpr std::array<std::string_view, 13> kKinds = {"shell",
                                                     "exec",
                                                     "powershell",
                                                     "refresh_inventory",
                                                     "collect_processes",
                                                     "apply_config",
                                                     "reboot",
                                                     "update_agent",
                                                     "cancel",
                                                     "trust_command_keys",
                                                     "cmd",
                                                     "registry",
                                                     "kill_process"};
static_assert(kKinds.size() == std::variant_size_v<CommandAction>);
static_assert(static_cast<std::size_t>(schema::CommandPayload::MAX) == kKinds.size());

template <class>
inline constexpr bool kAlwaysFalse = false;

Offset<flatbuffers::Vector<Offset<schema::KeyValue>>> key_values(FlatBufferBuilder& fbb,
                                                                 const KeyValues& list) {
  if (list.empty()) return {};
  std::vector<Offset<schema::KeyValue>> items;
  items.reserve(list.size());
  for (const auto& [k, v] : list)
    items.push_back(schema::CreateKeyValueDirect(fbb, k.c_str(), v.c_str()));
  return fbb.CreateVector(items);
}

KeyValues read_key_values(const flatbuffers::Vector<Offset<schema::KeyValue>>* list) {
  KeyValues out;
  if (list == nullptr) return out;
  out.reserve(list->size());
  for (const auto* kv : *list) {
    out.emplace_back(kv->key() != nullptr ? kv->key()->str() : std::string(),
                     kv->value() != nullptr ? kv->value()->str() : std::string());
  }
  return out;
}

std::string str_of(const flatbuffers::String* s) {
  return s != nullptr ? s->str() : std::string();
}

Offset<schema::RegistryCommand> build_registry(FlatBufferBuilder& fbb, const RegistrySpec& r) {
  Offset<schema::RegistryValueData> value;
  if (r.op == schema::RegistryOperation::Set) {
    const auto& v = r.value;
    auto text = fbb.CreateString(v.text);
    auto strings = fbb.CreateVectorOfStrings(v.strings);
    auto bytes = fbb.CreateVector(v.bytes);
    value =
        schema::CreateRegistryValueData(fbb, v.type, text, strings, v.number, bytes, v.raw_type);
  }
  auto key = fbb.CreateString(r.key);
  auto name = fbb.CreateString(r.name);
  return schema::CreateRegistryCommand(fbb, r.op, r.hive, key, name, value);
}

Result<RegistrySpec> read_registry(const schema::RegistryCommand& p) {
  RegistrySpec r;
  r.op = p.operation();
  r.hive = p.hive();
  if (!known_registry_op(r.op)) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("unknown registry operation {}", static_cast<unsigned>(r.op)));
  }
  if (!known_registry_hive(r.hive)) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("unknown registry hive {}", static_cast<unsigned>(r.hive)));
  }
  r.key = str_of(p.key());
  r.name = str_of(p.name());
  if (r.op != schema::RegistryOperation::Set) return r;
  const auto* v = p.value();
  if (v == nullptr) return fail(Error::Code::kInvalidInput, "a registry set without a value");
  if (!known_registry_type(v->type())) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("unknown registry value type {}", static_cast<unsigned>(v->type())));
  }
  r.value.type = v->type();
  r.value.text = str_of(v->text());
  if (v->strings() != nullptr) {
    for (const auto* s : *v->strings()) r.value.strings.push_back(str_of(s));
  }
  r.value.number = v->number();
  if (v->bytes() != nullptr) r.value.bytes.assign(v->bytes()->begin(), v->bytes()->end());
  r.value.raw_type = v->raw_type();
  return r;
}

std::pair<schema::CommandPayload, Offset<void>> build_action(FlatBufferBuilder& fbb,
                                                             const CommandAction& action) {
  return std::visit(
      [&](const auto& a) -> std::pair<schema::CommandPayload, Offset<void>> {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, ShellSpec>) {
          return {schema::CommandPayload::ShellCommand,
                  schema::CreateShellCommandDirect(fbb, a.script.c_str(), a.interpreter.c_str())
                      .Union()};
        } else if constexpr (std::is_same_v<T, ExecSpec>) {
          auto argv = fbb.CreateVectorOfStrings(a.argv);
          return {schema::CommandPayload::ExecCommand,
                  schema::CreateExecCommand(fbb, argv).Union()};
        } else if constexpr (std::is_same_v<T, PowerShellSpec>) {
          return {schema::CommandPayload::PowerShellCommand,
                  schema::CreatePowerShellCommandDirect(fbb, a.script.c_str()).Union()};
        } else if constexpr (std::is_same_v<T, RefreshInventorySpec>) {
          return {schema::CommandPayload::RefreshInventory,
                  schema::CreateRefreshInventory(fbb).Union()};
        } else if constexpr (std::is_same_v<T, CollectProcessesSpec>) {
          return {schema::CommandPayload::CollectProcesses,
                  schema::CreateCollectProcesses(fbb).Union()};
        } else if constexpr (std::is_same_v<T, ApplyConfigSpec>) {
          auto settings = key_values(fbb, a.settings);
          return {schema::CommandPayload::ApplyConfig,
                  schema::CreateApplyConfig(fbb, settings).Union()};
        } else if constexpr (std::is_same_v<T, RebootSpec>) {
          return {schema::CommandPayload::Reboot, schema::CreateReboot(fbb, a.confirm).Union()};
        } else if constexpr (std::is_same_v<T, UpdateAgentSpec>) {
          return {schema::CommandPayload::UpdateAgent,
                  schema::CreateUpdateAgentDirect(fbb, a.version.c_str(), a.url.c_str(),
                                                  a.sha256.c_str(), a.allow_downgrade)
                      .Union()};
        } else if constexpr (std::is_same_v<T, CancelSpec>) {
          auto target = to_wire(a.target.bytes());
          return {schema::CommandPayload::CancelCommand,
                  schema::CreateCancelCommand(fbb, &target).Union()};
        } else if constexpr (std::is_same_v<T, TrustCommandKeysSpec>) {
          auto keys = fbb.CreateVectorOfStrings(a.public_keys);
          return {schema::CommandPayload::TrustCommandKeys,
                  schema::CreateTrustCommandKeys(fbb, keys).Union()};
        } else if constexpr (std::is_same_v<T, CmdSpec>) {
          return {schema::CommandPayload::CmdCommand,
                  schema::CreateCmdCommandDirect(fbb, a.script.c_str()).Union()};
        } else if constexpr (std::is_same_v<T, RegistrySpec>) {
          return {schema::CommandPayload::RegistryCommand, build_registry(fbb, a).Union()};
        } else if constexpr (std::is_same_v<T, KillProcessSpec>) {
          return {schema::CommandPayload::KillProcess,
                  schema::CreateKillProcessDirect(fbb, a.pid, a.name.c_str()).Union()};
        } else {
          static_assert(kAlwaysFalse<T>, "a CommandAction member has no builder");
        }
      },
      action);
}

Result<CommandAction> read_action(const schema::CommandEnvelope& e) {
  switch (e.payload_type()) {
    case schema::CommandPayload::ShellCommand: {
      const auto* p = e.payload_as_ShellCommand();
      return ShellSpec{str_of(p->script()), str_of(p->interpreter())};
    }
    case schema::CommandPayload::ExecCommand: {
      ExecSpec spec;
      if (const auto* argv = e.payload_as_ExecCommand()->argv(); argv != nullptr) {
        for (const auto* a : *argv) spec.argv.push_back(str_of(a));
      }
      return spec;
    }
    case schema::CommandPayload::PowerShellCommand:
      return PowerShellSpec{str_of(e.payload_as_PowerShellCommand()->script())};
    case schema::CommandPayload::RefreshInventory:
      return RefreshInventorySpec{};
    case schema::CommandPayload::CollectProcesses:
      return CollectProcessesSpec{};
    case schema::CommandPayload::ApplyConfig:
      return ApplyConfigSpec{read_key_values(e.payload_as_ApplyConfig()->settings())};
    case schema::CommandPayload::Reboot:
      return RebootSpec{e.payload_as_Reboot()->confirm()};
    case schema::CommandPayload::UpdateAgent: {
      const auto* p = e.payload_as_UpdateAgent();
      return UpdateAgentSpec{str_of(p->version()), str_of(p->url()), str_of(p->sha256()),
                             p->allow_downgrade()};
    }
    case schema::CommandPayload::CancelCommand:
      return CancelSpec{CommandId(from_wire(e.payload_as_CancelCommand()->target()))};
    case schema::CommandPayload::TrustCommandKeys: {
      TrustCommandKeysSpec spec;
      if (const auto* keys = e.payload_as_TrustCommandKeys()->public_keys(); keys != nullptr) {
        for (const auto* k : *keys) spec.public_keys.push_back(str_of(k));
      }
      return spec;
    }
    case schema::CommandPayload::CmdCommand:
      return CmdSpec{str_of(e.payload_as_CmdCommand()->script())};
    case schema::CommandPayload::RegistryCommand: {
      auto spec = read_registry(*e.payload_as_RegistryCommand());
      if (!spec) return std::unexpected(spec.error());
      return std::move(*spec);
    }
    case schema::CommandPayload::KillProcess: {
      const auto* p = e.payload_as_KillProcess();
      return KillProcessSpec{p->pid(), str_of(p->name())};
    }
    case schema::CommandPayload::NONE:
      break;
  }
  return fail(Error::Code::kInvalidInput, fmt::format("unknown command payload type {}",
                                                      static_cast<unsigned>(e.payload_type())));
}

}  // namespace

std::string_view command_kind(schema::CommandPayload type) {
  auto index = static_cast<std::size_t>(type);
  if (index == 0 || index > kKinds.size()) return "unknown";
  return kKinds[index - 1];
}

std::string_view command_kind(const CommandAction& action) {
  return kKinds[action.index()];
}

std::vector<std::uint8_t> build_command(const CommandInfo& c) {
  FlatBufferBuilder fbb(512);
  auto [type, payload] = build_action(fbb, c.action);
  auto issuer = fbb.CreateString(c.issuer);
  auto working_dir =
      c.working_dir.empty() ? Offset<flatbuffers::String>() : fbb.CreateString(c.working_dir);
  auto env = key_values(fbb, c.env);
  auto id = to_wire(c.id.bytes());
  auto agent = to_wire(c.agent.bytes());
  schema::CommandEnvelopeBuilder b(fbb);
  b.add_command_id(&id);
  b.add_issued_at_ns(c.issued_at);
  b.add_expires_at_ns(c.expires_at);
  b.add_issuer(issuer);
  b.add_schema_version(kEventSchemaVersion);
  b.add_payload_type(type);
  b.add_payload(payload);
  b.add_timeout_ms(c.timeout_ms);
  b.add_output_cap_bytes(c.output_cap_bytes);
  b.add_working_dir(working_dir);
  b.add_env(env);
  if (!c.agent.is_nil()) b.add_agent_id(&agent);
  schema::FinishCommandEnvelopeBuffer(fbb, b.Finish());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

Result<CommandInfo> read_command(const schema::CommandEnvelope& e) {
  auto action = read_action(e);
  if (!action) return std::unexpected(action.error());
  CommandInfo c{.id = CommandId(from_wire(e.command_id())),
                .agent = AgentId(from_wire(e.agent_id())),
                .issued_at = e.issued_at_ns(),
                .expires_at = e.expires_at_ns(),
                .issuer = str_of(e.issuer()),
                .timeout_ms = e.timeout_ms(),
                .output_cap_bytes = e.output_cap_bytes(),
                .working_dir = str_of(e.working_dir()),
                .env = read_key_values(e.env()),
                .action = std::move(*action)};
  return c;
}

std::vector<std::uint8_t> build_command_received(const AgentEventHeader& h,
                                                 const CommandReceivedInfo& v) {
  FlatBufferBuilder fbb(256);
  auto id = to_wire(v.command.bytes());
  auto payload =
      schema::CreateCommandReceivedDirect(fbb, &id, v.kind.c_str(), v.issuer.c_str(), v.stream_seq);
  return finish_agent_event(fbb, h, schema::Payload::CommandReceived, payload.Union());
}

std::vector<std::uint8_t> build_command_started(const AgentEventHeader& h, const CommandId& id,
                                                std::uint32_t pid) {
  FlatBufferBuilder fbb(128);
  auto wire = to_wire(id.bytes());
  auto payload = schema::CreateCommandStarted(fbb, &wire, pid);
  return finish_agent_event(fbb, h, schema::Payload::CommandStarted, payload.Union());
}

std::vector<std::uint8_t> build_command_output(const AgentEventHeader& h,
                                               const CommandOutputInfo& v) {
  FlatBufferBuilder fbb(v.data.size() + 256);
  auto id = to_wire(v.command.bytes());
  auto data = fbb.CreateVector(v.data.data(), v.data.size());
  auto payload =
      schema::CreateCommandOutput(fbb, &id, v.stream, v.chunk_index, v.offset, data, v.truncated);
  return finish_agent_event(fbb, h, schema::Payload::CommandOutput, payload.Union());
}

std::vector<std::uint8_t> build_command_completed(const AgentEventHeader& h,
                                                  const CommandCompletedInfo& v) {
  FlatBufferBuilder fbb(192);
  auto id = to_wire(v.command.bytes());
  auto payload = schema::CreateCommandCompleted(fbb, &id, v.exit_code, v.term_signal, v.duration_ms,
                                                v.stdout_bytes, v.stderr_bytes, v.stdout_truncated,
                                                v.stderr_truncated);
  return finish_agent_event(fbb, h, schema::Payload::CommandCompleted, payload.Union());
}

std::vector<std::uint8_t> build_command_failed(const AgentEventHeader& h, const CommandId& id,
                                               std::string_view reason) {
  FlatBufferBuilder fbb(256);
  auto wire = to_wire(id.bytes());
  auto text = fbb.CreateString(reason);
  auto payload = schema::CreateCommandFailed(fbb, &wire, text);
  return finish_agent_event(fbb, h, schema::Payload::CommandFailed, payload.Union());
}

std::vector<std::uint8_t> build_command_timed_out(const AgentEventHeader& h,
                                                  const CommandTimedOutInfo& v) {
  FlatBufferBuilder fbb(192);
  auto id = to_wire(v.command.bytes());
  auto payload = schema::CreateCommandTimedOut(fbb, &id, v.timeout_ms, v.duration_ms, v.killed,
                                               v.stdout_truncated, v.stderr_truncated);
  return finish_agent_event(fbb, h, schema::Payload::CommandTimedOut, payload.Union());
}

std::vector<std::uint8_t> build_command_cancelled(const AgentEventHeader& h,
                                                  const CommandCancelledInfo& v) {
  FlatBufferBuilder fbb(192);
  auto id = to_wire(v.command.bytes());
  auto by = to_wire(v.cancel_command.bytes());
  auto payload = schema::CreateCommandCancelled(fbb, &id, &by, v.was_running, v.duration_ms);
  return finish_agent_event(fbb, h, schema::Payload::CommandCancelled, payload.Union());
}

std::vector<std::uint8_t> build_command_expired(const AgentEventHeader& h, const CommandId& id,
                                                UnixNanos expires_at) {
  FlatBufferBuilder fbb(128);
  auto wire = to_wire(id.bytes());
  auto payload = schema::CreateCommandExpired(fbb, &wire, expires_at);
  return finish_agent_event(fbb, h, schema::Payload::CommandExpired, payload.Union());
}

std::vector<std::uint8_t> build_command_rejected(const AgentEventHeader& h, const CommandId& id,
                                                 std::string_view reason) {
  FlatBufferBuilder fbb(256);
  auto wire = to_wire(id.bytes());
  auto text = fbb.CreateString(reason);
  auto payload = schema::CreateCommandRejected(fbb, &wire, text);
  return finish_agent_event(fbb, h, schema::Payload::CommandRejected, payload.Union());
}

std::vector<std::uint8_t> build_command_interrupted(const AgentEventHeader& h, const CommandId& id,
                                                    std::string_view reason) {
  FlatBufferBuilder fbb(256);
  auto wire = to_wire(id.bytes());
  auto text = fbb.CreateString(reason);
  auto payload = schema::CreateCommandInterrupted(fbb, &wire, text);
  return finish_agent_event(fbb, h, schema::Payload::CommandInterrupted, payload.Union());
}

}  // namespace rmm::codec
