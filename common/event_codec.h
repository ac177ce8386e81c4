// Building and verifying the wire events of schemas/events.fbs and schemas/commands.fbs.
//
// Every buffer that crosses a process boundary goes through verify_event / verify_command before
// any field is read: the FlatBuffers Verifier bounds every offset, and the file identifier rejects
// a buffer of another schema. Verification also rejects envelopes that no projector could use (no
// payload, no source id, sequence 0).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands_generated.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "events_generated.h"

namespace rmm::codec {

inline constexpr std::uint16_t kEventSchemaVersion = 1;

schema::Uuid to_wire(const UuidBytes& bytes);
UuidBytes from_wire(const schema::Uuid* uuid);  // nil for a missing field

Result<const schema::Envelope*> verify_event(std::span<const std::uint8_t> bytes);
Result<const schema::CommandEnvelope*> verify_command(std::span<const std::uint8_t> bytes);

// FlatBuffers reads scalars in place and the Verifier checks alignment only relative to the
// buffer's start, while a NATS payload follows its headers at any address. Returns `bytes` when
// it is suitably aligned, else a copy of it held in `storage` (heap memory is aligned for every
// scalar). Verify and read the returned span, and keep `storage` alive as long as it is used.
std::span<const std::uint8_t> aligned_for_read(std::span<const std::uint8_t> bytes,
                                               std::vector<std::uint8_t>& storage);

// The subject token of a payload type ("started", "heartbeat", ...); empty for NONE or a type this
// build does not know.
std::string_view event_type_token(schema::Payload type);
std::optional<schema::Payload> payload_for_token(std::string_view token);

// "rmm.evt.<agent id>.<type token>": the subject an agent publishes to (the server maps it to
// its partition). "rmm.cmd.<agent id>": where that agent's commands go.
std::string agent_event_subject(const AgentId& agent, schema::Payload type);
std::string agent_command_subject(const AgentId& agent);
// "<agent id>:<seq>": the unkeyed msg id agents used before msg id keys, still a unique id for
// tests and benchmarks that write agent events with the services credential. Anyone can make it,
// so agents never use it: their ids come from AgentMsgIds (common/msg_ids.h).
std::string agent_msg_id(const AgentId& agent, AgentSeq seq);

// The header fields every agent event carries.
struct AgentEventHeader {
  EventId event_id;
  AgentId agent;
  AgentSeq seq;
  UnixNanos occurred_at = 0;
  // Presence for heartbeats (seq is then the outbox's heartbeat counter), Ordered for the rest.
  schema::Lane lane = schema::Lane::Ordered;
};

struct AgentStartedInfo {
  std::string hostname;
  std::string os_name;
  std::string os_version;
  std::string kernel;
  std::string arch;
  std::string agent_version;
  std::string cpu_model;
  std::uint32_t cpu_count = 0;
  std::uint64_t memory_total_bytes = 0;
};

struct HeartbeatInfo {
  std::string agent_version;
  std::uint64_t uptime_s = 0;
  std::uint64_t outbox_depth = 0;
  std::uint64_t oldest_unsent_age_s = 0;
};

struct FilesystemInfo {
  std::string mount;
  std::string fstype;
  std::string device;
  std::uint64_t used_bytes = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t inodes_used = 0;
  std::uint64_t inodes_total = 0;
};

// Cumulative counters since boot (see schemas/events.fbs DiskIo).
struct DiskIoInfo {
  std::string name;
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
  std::uint64_t io_time_ms = 0;
};

struct NetIoInfo {
  std::string name;
  std::uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_drops = 0;
  std::uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_drops = 0;
};

struct TemperatureInfo {
  std::string chip;
  std::string label;
  float celsius = 0;
};

struct ProcessInfo {
  std::uint32_t pid = 0;
  std::string name;
  std::string user;
  float cpu_percent = 0;
  std::uint64_t rss_bytes = 0;
  std::string cmdline;
};

// A MetricsSample. The first seven members are schema v1; a list left empty (nullopt) was not
// collected and is omitted from the event, a present empty list means "collected, none".
struct MetricsInfo {
  float cpu_percent = 0;
  std::uint64_t memory_total_bytes = 0;
  std::uint64_t memory_used_bytes = 0;
  std::uint64_t memory_available_bytes = 0;
  float load1 = 0, load5 = 0, load15 = 0;
  std::uint32_t cpu_interval_ms = 0;
  std::optional<std::vector<float>> cpu_core_percent;
  std::uint64_t memory_cached_bytes = 0;
  std::uint64_t swap_total_bytes = 0;
  std::uint64_t swap_used_bytes = 0;
  std::optional<std::vector<FilesystemInfo>> filesystems;
  std::optional<std::vector<DiskIoInfo>> disks;
  std::optional<std::vector<NetIoInfo>> network;
  std::optional<std::vector<TemperatureInfo>> temperatures;
  std::uint64_t uptime_s = 0;
  std::uint32_t process_count = 0;
  std::uint32_t logged_in_users = 0;
  std::optional<std::vector<ProcessInfo>> top_processes;
  std::vector<std::string> collection_errors;
};

struct NetInterfaceInfo {
  std::string name;
  std::string mac;
  std::vector<std::string> addresses;  // "address/prefix"
};

struct PackageInfo {
  std::string name;
  std::string version;
  std::string arch;
};

struct ServiceInfo {
  std::string name;
  std::string load_state;
  std::string active_state;
  std::string sub_state;
};

struct InventoryInfo {
  std::string hostname;
  std::string fqdn;
  std::string os_name;
  std::string os_version;
  std::string os_pretty;
  std::string kernel;
  std::string arch;
  std::int64_t boot_time_ns = 0;
  std::string cpu_model;
  std::uint32_t cpu_sockets = 0;
  std::uint32_t cpu_cores = 0;
  std::uint32_t cpu_threads = 0;
  std::uint64_t memory_total_bytes = 0;
  std::string machine_id;
  std::string dmi_vendor;
  std::string dmi_product;
  std::string dmi_serial;
  std::vector<NetInterfaceInfo> interfaces;
  std::string package_manager;
  std::vector<PackageInfo> packages;
  bool packages_truncated = false;
  std::vector<ServiceInfo> services;
  bool services_truncated = false;
  std::string services_unavailable_reason;
  std::vector<std::string> collection_errors;
};

struct OutboxDroppedInfo {
  std::uint64_t dropped_metrics = 0;
  std::uint64_t dropped_heartbeats = 0;
  std::uint64_t oldest_dropped_seq = 0;
  std::uint64_t newest_dropped_seq = 0;
};

std::vector<std::uint8_t> build_agent_started(const AgentEventHeader& h, const AgentStartedInfo& v);
std::vector<std::uint8_t> build_heartbeat(const AgentEventHeader& h, const HeartbeatInfo& v);
std::vector<std::uint8_t> build_metrics(const AgentEventHeader& h, const MetricsInfo& v);
std::vector<std::uint8_t> build_inventory(const AgentEventHeader& h, const InventoryInfo& v);
std::vector<std::uint8_t> build_outbox_dropped(const AgentEventHeader& h,
                                               const OutboxDroppedInfo& v);

// Finishes an agent envelope around an already-built payload: the building block of the helpers
// above, for payload types that have no helper yet.
std::vector<std::uint8_t> finish_agent_event(flatbuffers::FlatBufferBuilder& fbb,
                                             const AgentEventHeader& h, schema::Payload type,
                                             flatbuffers::Offset<void> payload);

}  // namespace rmm::codec
