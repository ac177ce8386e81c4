// The row changes of the telemetry events (MetricsSample, Inventory, OutboxDropped), as plain
// values extracted from a verified payload by pure functions. Strings are storable (bounded,
// valid UTF-8); uint64 values are clamped to int64 (PostgreSQL bigint); non-finite floats are 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events_generated.h"

namespace rmm::projector {

struct FilesystemRow {
  std::string mount, fstype, device;
  std::int64_t used_bytes = 0, total_bytes = 0, inodes_used = 0, inodes_total = 0;
  bool operator==(const FilesystemRow&) const = default;
};

struct DiskRow {
  std::string name;
  std::int64_t reads = 0, writes = 0, read_bytes = 0, write_bytes = 0, io_time_ms = 0;
  bool operator==(const DiskRow&) const = default;
};

struct NetRow {
  std::string name;
  std::int64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_drops = 0;
  std::int64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_drops = 0;
  bool operator==(const NetRow&) const = default;
};

struct TemperatureRow {
  std::string chip, label;
  float celsius = 0;
  bool operator==(const TemperatureRow&) const = default;
};

struct ProcessRow {
  std::int64_t pid = 0;
  std::string name, user, cmdline;
  float cpu_percent = 0;
  std::int64_t rss_bytes = 0;
  bool operator==(const ProcessRow&) const = default;
};

// One MetricsSample: the `metrics` row, and the rows of the per-item tables. An absent list (not
// collected) is nullopt; the raw tables get no rows for it either way, the latest state keeps the
// distinction.
struct MetricsRows {
  float cpu_percent = 0;
  std::int32_t cpu_interval_ms = 0;
  std::int64_t mem_total_bytes = 0, mem_used_bytes = 0, mem_available_bytes = 0;
  std::int64_t mem_cached_bytes = 0, swap_total_bytes = 0, swap_used_bytes = 0;
  float load1 = 0, load5 = 0, load15 = 0;
  std::int64_t uptime_s = 0;
  std::int32_t process_count = 0, logged_in_users = 0;
  std::optional<std::vector<FilesystemRow>> filesystems;
  std::optional<std::vector<DiskRow>> disks;
  std::optional<std::vector<NetRow>> network;
  std::optional<std::vector<TemperatureRow>> temperatures;
  std::optional<std::vector<ProcessRow>> top_processes;
  std::vector<std::string> collection_errors;

  // used / total in percent; 0 when the total is unknown.
  double mem_percent() const;
};

struct InterfaceDoc {
  std::string name, mac;
  std::vector<std::string> addresses;
};

// The latest-inventory row; packages/services stay lists until the writer renders them as jsonb.
struct InventoryRow {
  std::string hostname, fqdn, os_name, os_version, os_pretty, kernel, arch;
  std::int64_t boot_time_ns = 0;  // 0: unknown
  std::string cpu_model;
  std::int32_t cpu_sockets = 0, cpu_cores = 0, cpu_threads = 0;
  std::int64_t memory_total_bytes = 0;
  std::string machine_id, dmi_vendor, dmi_product, dmi_serial;
  std::vector<InterfaceDoc> interfaces;
  std::string package_manager;
  std::vector<std::vector<std::string>> packages;  // {name, version, arch}
  bool packages_truncated = false;
  std::vector<std::vector<std::string>> services;  // {name, load, active, sub}
  bool services_truncated = false;
  std::string services_unavailable_reason;
  std::vector<std::string> collection_errors;
};

struct OutboxDropRow {
  std::int64_t dropped_metrics = 0, dropped_heartbeats = 0;
  std::int64_t oldest_dropped_seq = 0, newest_dropped_seq = 0;
};

// A WatchdogAlert: what the alert engine raises a watchdog alert from.
struct WatchdogRow {
  schema::WatchdogAlertKind kind = schema::WatchdogAlertKind::CrashLoop;
  std::int64_t restarts = 0, window_s = 0, rss_bytes = 0;
  float cpu_percent = 0;
  std::string detail;
  bool operator==(const WatchdogRow&) const = default;
};

MetricsRows metrics_rows(const schema::MetricsSample& sample);
WatchdogRow watchdog_row(const schema::WatchdogAlert& alert);
InventoryRow inventory_row(const schema::Inventory& inventory);
OutboxDropRow outbox_drop_row(const schema::OutboxDropped& dropped);

// Helpers shared by the folds.
std::int64_t clamp_u64(std::uint64_t v);
float finite_or_zero(float v);

}  // namespace rmm::projector
