#include "common/event_codec.h"

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace rmm::codec {
namespace {

// Deep enough for every schema we ship; bounds the verifier's work on hostile input.
constexpr flatbuffers::Verifier::Options kVerifierOptions{/*max_depth=*/32, /*max_tables=*/100'000,
                                                          /*check_alignment=*/true,
                                                          /*check_nested_flatbuffers=*/true};
// Larger than any event or command we produce; larger input is refused before verification.
constexpr std::size_t kMaxMessageBytes = 16 * 1024 * 1024;

struct TokenEntry {
  schema::Payload type;
  std::string_view token;
};

// Subject tokens are part of the wire contract: append only, never rename.
constexpr std::array<TokenEntry, 17> kTokens = {{
    {schema::Payload::AgentStarted, "started"},
    {schema::Payload::Heartbeat, "heartbeat"},
    {schema::Payload::MetricsSample, "metrics"},
    {schema::Payload::CommandReceived, "cmd_received"},
    {schema::Payload::CommandStarted, "cmd_started"},
    {schema::Payload::CommandOutput, "cmd_output"},
    {schema::Payload::CommandCompleted, "cmd_completed"},
    {schema::Payload::CommandFailed, "cmd_failed"},
    {schema::Payload::CommandTimedOut, "cmd_timeout"},
    {schema::Payload::CommandCancelled, "cmd_cancelled"},
    {schema::Payload::CommandExpired, "cmd_expired"},
    {schema::Payload::CommandRejected, "cmd_rejected"},
    {schema::Payload::CommandInterrupted, "cmd_interrupted"},
    {schema::Payload::Inventory, "inventory"},
    {schema::Payload::OutboxDropped, "outbox_dropped"},
    {schema::Payload::UpdateProgress, "update_progress"},
    {schema::Payload::WatchdogAlert, "watchdog_alert"},
}};

template <class O>
struct OffsetTarget;
template <class T>
struct OffsetTarget<flatbuffers::Offset<T>> {
  using type = T;
};

// A vector of tables from an optional list; a null offset (field omitted) when not collected.
template <class T, class Make>
auto build_list(flatbuffers::FlatBufferBuilder& fbb, const std::optional<std::vector<T>>& list,
                Make make) {
  using Table = typename OffsetTarget<decltype(make(std::declval<const T&>()))>::type;
  if (!list) return flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<Table>>>();
  std::vector<flatbuffers::Offset<Table>> items;
  items.reserve(list->size());
  for (const auto& item : *list) items.push_back(make(item));
  return fbb.CreateVector(items);
}

// Omitted when empty: most events carry no errors.
flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> string_list(
    flatbuffers::FlatBufferBuilder& fbb, const std::vector<std::string>& list) {
  if (list.empty()) return {};
  return fbb.CreateVectorOfStrings(list);
}

}  // namespace

schema::Uuid to_wire(const UuidBytes& bytes) {
  return schema::Uuid(flatbuffers::span<const std::uint8_t, 16>(bytes.data(), 16));
}

UuidBytes from_wire(const schema::Uuid* uuid) {
  UuidBytes out{};
  if (uuid == nullptr) return out;
  const auto* arr = uuid->bytes();
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = arr->Get(static_cast<flatbuffers::uoffset_t>(i));
  return out;
}

Result<const schema::Envelope*> verify_event(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 8) return fail(Error::Code::kInvalidInput, "event too short");
  if (bytes.size() > kMaxMessageBytes) return fail(Error::Code::kInvalidInput, "event too large");
  if (!schema::EnvelopeBufferHasIdentifier(bytes.data())) {
    return fail(Error::Code::kInvalidInput, "not an event (file identifier is not RMEV)");
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), kVerifierOptions);
  if (!schema::VerifyEnvelopeBuffer(verifier)) {
    return fail(Error::Code::kInvalidInput, "event failed FlatBuffers verification");
  }
  const auto* env = schema::GetEnvelope(bytes.data());
  if (env->payload_type() == schema::Payload::NONE || env->payload() == nullptr) {
    return fail(Error::Code::kInvalidInput, "event has no payload");
  }
  if (env->source_id() == nullptr || from_wire(env->source_id()) == UuidBytes{}) {
    return fail(Error::Code::kInvalidInput, "event has no source id");
  }
  if (env->seq() == 0) return fail(Error::Code::kInvalidInput, "event sequence must start at 1");
  return env;
}

Result<const schema::CommandEnvelope*> verify_command(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 8) return fail(Error::Code::kInvalidInput, "command too short");
  if (bytes.size() > kMaxMessageBytes) return fail(Error::Code::kInvalidInput, "command too large");
  if (!schema::CommandEnvelopeBufferHasIdentifier(bytes.data())) {
    return fail(Error::Code::kInvalidInput, "not a command (file identifier is not RMCM)");
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), kVerifierOptions);
  if (!schema::VerifyCommandEnvelopeBuffer(verifier)) {
    return fail(Error::Code::kInvalidInput, "command failed FlatBuffers verification");
  }
  const auto* cmd = schema::GetCommandEnvelope(bytes.data());
  if (cmd->command_id() == nullptr) return fail(Error::Code::kInvalidInput, "command has no id");
  return cmd;
}

std::span<const std::uint8_t> aligned_for_read(std::span<const std::uint8_t> bytes,
                                               std::vector<std::uint8_t>& storage) {
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(std::max_align_t) == 0) return bytes;
  storage.assign(bytes.begin(), bytes.end());
  return storage;
}

std::string_view event_type_token(schema::Payload type) {
  for (const auto& e : kTokens) {
    if (e.type == type) return e.token;
  }
  return {};
}

std::optional<schema::Payload> payload_for_token(std::string_view token) {
  for (const auto& e : kTokens) {
    if (e.token == token) return e.type;
  }
  return std::nullopt;
}

std::string agent_event_subject(const AgentId& agent, schema::Payload type) {
  return fmt::format("rmm.evt.{}.{}", agent.str(), event_type_token(type));
}

std::string agent_command_subject(const AgentId& agent) {
  return fmt::format("rmm.cmd.{}", agent.str());
}

std::string agent_msg_id(const AgentId& agent, AgentSeq seq) {
  return fmt::format("{}:{}", agent.str(), seq.value);
}

std::vector<std::uint8_t> finish_agent_event(flatbuffers::FlatBufferBuilder& fbb,
                                             const AgentEventHeader& h, schema::Payload type,
                                             flatbuffers::Offset<void> payload) {
  auto event_id = to_wire(h.event_id.bytes());
  auto source_id = to_wire(h.agent.bytes());
  auto env = schema::CreateEnvelope(fbb, &event_id, schema::SourceKind::Agent, &source_id,
                                    /*source_name=*/0, h.seq.value, h.occurred_at,
                                    kEventSchemaVersion, type, payload, h.lane);
  schema::FinishEnvelopeBuffer(fbb, env);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> build_agent_started(const AgentEventHeader& h,
                                              const AgentStartedInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(512);
  auto payload = schema::CreateAgentStartedDirect(
      fbb, v.hostname.c_str(), v.os_name.c_str(), v.os_version.c_str(), v.kernel.c_str(),
      v.arch.c_str(), v.agent_version.c_str(), v.cpu_model.c_str(), v.cpu_count,
      v.memory_total_bytes);
  return finish_agent_event(fbb, h, schema::Payload::AgentStarted, payload.Union());
}

std::vector<std::uint8_t> build_heartbeat(const AgentEventHeader& h, const HeartbeatInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto payload = schema::CreateHeartbeatDirect(fbb, v.agent_version.c_str(), v.uptime_s,
                                               v.outbox_depth, v.oldest_unsent_age_s);
  return finish_agent_event(fbb, h, schema::Payload::Heartbeat, payload.Union());
}

std::vector<std::uint8_t> build_metrics(const AgentEventHeader& h, const MetricsInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(v.top_processes || v.filesystems ? 4096 : 256);
  // Lists are written only when collected, so a v1-shaped MetricsInfo still builds the v1 bytes.
  flatbuffers::Offset<flatbuffers::Vector<float>> cores;
  if (v.cpu_core_percent) cores = fbb.CreateVector(*v.cpu_core_percent);
  auto filesystems = build_list(fbb, v.filesystems, [&](const FilesystemInfo& f) {
    return schema::CreateFilesystemUsageDirect(fbb, f.mount.c_str(), f.fstype.c_str(),
                                               f.device.c_str(), f.used_bytes, f.total_bytes,
                                               f.inodes_used, f.inodes_total);
  });
  auto disks = build_list(fbb, v.disks, [&](const DiskIoInfo& d) {
    return schema::CreateDiskIoDirect(fbb, d.name.c_str(), d.reads, d.writes, d.read_bytes,
                                      d.write_bytes, d.io_time_ms);
  });
  auto network = build_list(fbb, v.network, [&](const NetIoInfo& n) {
    return schema::CreateNetIoDirect(fbb, n.name.c_str(), n.rx_bytes, n.rx_packets, n.rx_errors,
                                     n.rx_drops, n.tx_bytes, n.tx_packets, n.tx_errors, n.tx_drops);
  });
  auto temperatures = build_list(fbb, v.temperatures, [&](const TemperatureInfo& t) {
    return schema::CreateTemperatureDirect(fbb, t.chip.c_str(), t.label.c_str(), t.celsius);
  });
  auto processes = build_list(fbb, v.top_processes, [&](const ProcessInfo& p) {
    return schema::CreateProcessInfoDirect(fbb, p.pid, p.name.c_str(), p.user.c_str(),
                                           p.cpu_percent, p.rss_bytes, p.cmdline.c_str());
  });
  auto errors = string_list(fbb, v.collection_errors);

  // The generated Create orders fields as flatc does, which keeps the v1 golden bytes stable.
  auto payload = schema::CreateMetricsSample(
      fbb, v.cpu_percent, v.memory_total_bytes, v.memory_used_bytes, v.memory_available_bytes,
      v.load1, v.load5, v.load15, v.cpu_interval_ms, cores, v.memory_cached_bytes,
      v.swap_total_bytes, v.swap_used_bytes, filesystems, disks, network, temperatures, v.uptime_s,
      v.process_count, v.logged_in_users, processes, errors);
  return finish_agent_event(fbb, h, schema::Payload::MetricsSample, payload.Union());
}

std::vector<std::uint8_t> build_inventory(const AgentEventHeader& h, const InventoryInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(16 * 1024 + v.packages.size() * 64);
  std::vector<flatbuffers::Offset<schema::NetInterface>> interfaces;
  interfaces.reserve(v.interfaces.size());
  for (const auto& i : v.interfaces) {
    auto addresses = fbb.CreateVectorOfStrings(i.addresses);
    interfaces.push_back(schema::CreateNetInterface(fbb, fbb.CreateString(i.name),
                                                    fbb.CreateString(i.mac), addresses));
  }
  std::vector<flatbuffers::Offset<schema::Package>> packages;
  packages.reserve(v.packages.size());
  for (const auto& p : v.packages) {
    packages.push_back(
        schema::CreatePackageDirect(fbb, p.name.c_str(), p.version.c_str(), p.arch.c_str()));
  }
  std::vector<flatbuffers::Offset<schema::Service>> services;
  services.reserve(v.services.size());
  for (const auto& s : v.services) {
    services.push_back(schema::CreateServiceDirect(fbb, s.name.c_str(), s.load_state.c_str(),
                                                   s.active_state.c_str(), s.sub_state.c_str()));
  }
  auto str = [&](const std::string& x) { return fbb.CreateString(x); };
  auto payload = schema::CreateInventory(
      fbb, str(v.hostname), str(v.fqdn), str(v.os_name), str(v.os_version), str(v.os_pretty),
      str(v.kernel), str(v.arch), v.boot_time_ns, str(v.cpu_model), v.cpu_sockets, v.cpu_cores,
      v.cpu_threads, v.memory_total_bytes, str(v.machine_id), str(v.dmi_vendor), str(v.dmi_product),
      str(v.dmi_serial), fbb.CreateVector(interfaces), str(v.package_manager),
      fbb.CreateVector(packages), v.packages_truncated, fbb.CreateVector(services),
      v.services_truncated, str(v.services_unavailable_reason),
      string_list(fbb, v.collection_errors));
  return finish_agent_event(fbb, h, schema::Payload::Inventory, payload.Union());
}

std::vector<std::uint8_t> build_outbox_dropped(const AgentEventHeader& h,
                                               const OutboxDroppedInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto payload = schema::CreateOutboxDropped(fbb, v.dropped_metrics, v.dropped_heartbeats,
                                             v.oldest_dropped_seq, v.newest_dropped_seq);
  return finish_agent_event(fbb, h, schema::Payload::OutboxDropped, payload.Union());
}

}  // namespace rmm::codec
