#include "projector/folds/telemetry.h"

#include <cmath>
#include <limits>
#include <string_view>

#include "projector/folds/text.h"

namespace rmm::projector {
namespace {

std::string text(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : storable_text(std::string_view(s->c_str(), s->size()));
}

// A present list (possibly empty) becomes a vector; an absent one stays nullopt.
template <class Table, class Make>
auto rows_of(const flatbuffers::Vector<flatbuffers::Offset<Table>>* list, Make make) {
  using Row = decltype(make(std::declval<const Table&>()));
  std::optional<std::vector<Row>> out;
  if (list == nullptr) return out;
  out.emplace();
  out->reserve(list->size());
  for (const auto* item : *list) {
    if (item != nullptr) out->push_back(make(*item));
  }
  return out;
}

std::vector<std::string> texts(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* l) {
  std::vector<std::string> out;
  if (l == nullptr) return out;
  out.reserve(l->size());
  for (const auto* s : *l) out.push_back(text(s));
  return out;
}

std::int32_t clamp_u32(std::uint32_t v) {
  return static_cast<std::int32_t>(
      std::min<std::uint32_t>(v, std::numeric_limits<std::int32_t>::max()));
}

}  // namespace

std::int64_t clamp_u64(std::uint64_t v) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(v, kMax));
}

float finite_or_zero(float v) {
  return std::isfinite(v) ? v : 0.0f;
}

double MetricsRows::mem_percent() const {
  if (mem_total_bytes <= 0) return 0;
  return 100.0 * static_cast<double>(mem_used_bytes) / static_cast<double>(mem_total_bytes);
}

MetricsRows metrics_rows(const schema::MetricsSample& s) {
  MetricsRows r;
  r.cpu_percent = finite_or_zero(s.cpu_percent());
  r.cpu_interval_ms = clamp_u32(s.cpu_interval_ms());
  r.mem_total_bytes = clamp_u64(s.memory_total_bytes());
  r.mem_used_bytes = clamp_u64(s.memory_used_bytes());
  r.mem_available_bytes = clamp_u64(s.memory_available_bytes());
  r.mem_cached_bytes = clamp_u64(s.memory_cached_bytes());
  r.swap_total_bytes = clamp_u64(s.swap_total_bytes());
  r.swap_used_bytes = clamp_u64(s.swap_used_bytes());
  r.load1 = finite_or_zero(s.load1());
  r.load5 = finite_or_zero(s.load5());
  r.load15 = finite_or_zero(s.load15());
  r.uptime_s = clamp_u64(s.uptime_s());
  r.process_count = clamp_u32(s.process_count());
  r.logged_in_users = clamp_u32(s.logged_in_users());
  r.filesystems = rows_of(s.filesystems(), [](const schema::FilesystemUsage& f) {
    return FilesystemRow{.mount = text(f.mount()),
                         .fstype = text(f.fstype()),
                         .device = text(f.device()),
                         .used_bytes = clamp_u64(f.used_bytes()),
                         .total_bytes = clamp_u64(f.total_bytes()),
                         .inodes_used = clamp_u64(f.inodes_used()),
                         .inodes_total = clamp_u64(f.inodes_total())};
  });
  r.disks = rows_of(s.disks(), [](const schema::DiskIo& d) {
    return DiskRow{.name = text(d.name()),
                   .reads = clamp_u64(d.reads()),
                   .writes = clamp_u64(d.writes()),
                   .read_bytes = clamp_u64(d.read_bytes()),
                   .write_bytes = clamp_u64(d.write_bytes()),
                   .io_time_ms = clamp_u64(d.io_time_ms())};
  });
  r.network = rows_of(s.network(), [](const schema::NetIo& n) {
    return NetRow{.name = text(n.name()),
                  .rx_bytes = clamp_u64(n.rx_bytes()),
                  .rx_packets = clamp_u64(n.rx_packets()),
                  .rx_errors = clamp_u64(n.rx_errors()),
                  .rx_drops = clamp_u64(n.rx_drops()),
                  .tx_bytes = clamp_u64(n.tx_bytes()),
                  .tx_packets = clamp_u64(n.tx_packets()),
                  .tx_errors = clamp_u64(n.tx_errors()),
                  .tx_drops = clamp_u64(n.tx_drops())};
  });
  r.temperatures = rows_of(s.temperatures(), [](const schema::Temperature& t) {
    return TemperatureRow{
        .chip = text(t.chip()), .label = text(t.label()), .celsius = finite_or_zero(t.celsius())};
  });
  r.top_processes = rows_of(s.top_processes(), [](const schema::ProcessInfo& p) {
    return ProcessRow{.pid = p.pid(),
                      .name = text(p.name()),
                      .user = text(p.user()),
                      .cmdline = text(p.cmdline()),
                      .cpu_percent = finite_or_zero(p.cpu_percent()),
                      .rss_bytes = clamp_u64(p.rss_bytes())};
  });
  r.collection_errors = texts(s.collection_errors());
  return r;
}

InventoryRow inventory_row(const schema::Inventory& v) {
  InventoryRow r;
  r.hostname = text(v.hostname());
  r.fqdn = text(v.fqdn());
  r.os_name = text(v.os_name());
  r.os_version = text(v.os_version());
  r.os_pretty = text(v.os_pretty());
  r.kernel = text(v.kernel());
  r.arch = text(v.arch());
  r.boot_time_ns = v.boot_time_ns();
  r.cpu_model = text(v.cpu_model());
  r.cpu_sockets = clamp_u32(v.cpu_sockets());
  r.cpu_cores = clamp_u32(v.cpu_cores());
  r.cpu_threads = clamp_u32(v.cpu_threads());
  r.memory_total_bytes = clamp_u64(v.memory_total_bytes());
  r.machine_id = text(v.machine_id());
  r.dmi_vendor = text(v.dmi_vendor());
  r.dmi_product = text(v.dmi_product());
  r.dmi_serial = text(v.dmi_serial());
  if (const auto* list = v.interfaces()) {
    for (const auto* i : *list) {
      if (i == nullptr) continue;
      r.interfaces.push_back(
          {.name = text(i->name()), .mac = text(i->mac()), .addresses = texts(i->addresses())});
    }
  }
  r.package_manager = text(v.package_manager());
  if (const auto* list = v.packages()) {
    r.packages.reserve(list->size());
    for (const auto* p : *list) {
      if (p != nullptr)
        r.packages.push_back({text(p->name()), text(p->version()), text(p->arch())});
    }
  }
  r.packages_truncated = v.packages_truncated();
  if (const auto* list = v.services()) {
    r.services.reserve(list->size());
    for (const auto* s : *list) {
      if (s == nullptr) continue;
      r.services.push_back(
          {text(s->name()), text(s->load_state()), text(s->active_state()), text(s->sub_state())});
    }
  }
  r.services_truncated = v.services_truncated();
  r.services_unavailable_reason = text(v.services_unavailable_reason());
  r.collection_errors = texts(v.collection_errors());
  return r;
}

OutboxDropRow outbox_drop_row(const schema::OutboxDropped& d) {
  return {.dropped_metrics = clamp_u64(d.dropped_metrics()),
          .dropped_heartbeats = clamp_u64(d.dropped_heartbeats()),
          .oldest_dropped_seq = clamp_u64(d.oldest_dropped_seq()),
          .newest_dropped_seq = clamp_u64(d.newest_dropped_seq())};
}

WatchdogRow watchdog_row(const schema::WatchdogAlert& a) {
  return {
      .kind = a.kind(),
      .restarts = a.restarts(),
      .window_s = a.window_s(),
      .rss_bytes = clamp_u64(a.rss_bytes()),
      .cpu_percent = finite_or_zero(a.cpu_percent()),
      .detail = a.detail() == nullptr ? std::string() : storable_text(a.detail()->string_view())};
}

}  // namespace rmm::projector
