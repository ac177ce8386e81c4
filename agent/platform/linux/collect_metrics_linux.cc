// The Linux metrics collectors: the I/O around the pure parsers of this folder.
#include <pwd.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <system_error>
#include <unordered_set>

#include "agent/platform/collectors.h"
#include "agent/platform/linux/cpu_stat.h"
#include "agent/platform/linux/diskstats.h"
#include "agent/platform/linux/meminfo.h"
#include "agent/platform/linux/mounts.h"
#include "agent/platform/linux/net_dev.h"
#include "agent/platform/linux/proc_parsers.h"
#include "agent/platform/linux/process_scan.h"
#include "agent/platform/linux/sensors.h"
#include "agent/platform/linux/utmp_users.h"
#include "agent/platform/posix/read_file.h"
#include "agent/platform/text_limits.h"

namespace rmm::agent::platform {
namespace lp = linux_proc;
namespace {

// /proc/stat grows with the interrupt count; 1 MiB covers thousands of CPUs and IRQs.
constexpr std::size_t kProcStatMax = 1 << 20;

Result<lp::ProcStat> read_proc_stat() {
  auto text = posix::read_file("/proc/stat", kProcStatMax);
  if (!text) return std::unexpected(text.error());
  auto stat = lp::parse_proc_stat(*text);
  if (!stat) return fail("cannot parse /proc/stat");
  return *stat;
}

std::string user_name(SamplerState& state, std::uint32_t uid) {
  auto it = state.user_names.find(uid);
  if (it != state.user_names.end()) return it->second;
  std::string name = std::to_string(uid);
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
    name = clip_text(found->pw_name);
  }
  if (state.user_names.size() > 4096) state.user_names.clear();  // bounded cache
  return state.user_names.emplace(uid, std::move(name)).first->second;
}

}  // namespace

Os current_os() {
  return Os::kLinux;
}

Status collect_cpu(SamplerState& state, codec::MetricsInfo& out) {
  auto stat = read_proc_stat();
  if (!stat) return std::unexpected(stat.error());
  const std::size_t cores = std::min(stat->cpus.size(), kMaxCores);
  std::vector<float> per_core(cores, 0.0f);
  out.cpu_percent = 0;
  out.cpu_interval_ms = 0;
  // A CPU set that changed size (hotplug) restarts the baseline rather than comparing unlike.
  if (state.cpu.size() == stat->cpus.size() + 1) {
    out.cpu_percent = lp::cpu_busy_percent({state.cpu[0].busy, state.cpu[0].total}, stat->all);
    for (std::size_t i = 0; i < cores; ++i) {
      per_core[i] =
          lp::cpu_busy_percent({state.cpu[i + 1].busy, state.cpu[i + 1].total}, stat->cpus[i]);
    }
    const auto hz = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
    const std::uint64_t n = stat->cpus.empty() ? 1 : stat->cpus.size();
    if (hz > 0 && stat->all.total > state.cpu[0].total) {
      out.cpu_interval_ms =
          static_cast<std::uint32_t>((stat->all.total - state.cpu[0].total) * 1000 / (hz * n));
    }
  }
  state.cpu.clear();
  state.cpu.push_back({stat->all.busy, stat->all.total});
  for (const auto& c : stat->cpus) state.cpu.push_back({c.busy, c.total});
  out.cpu_core_percent = std::move(per_core);
  return {};
}

Status collect_load(SamplerState&, codec::MetricsInfo& out) {
  auto text = posix::read_file("/proc/loadavg", 4096);
  if (!text) return std::unexpected(text.error());
  auto load = lp::parse_loadavg(*text);
  if (!load) return fail("cannot parse /proc/loadavg");
  out.load1 = load->load1;
  out.load5 = load->load5;
  out.load15 = load->load15;
  return {};
}

Status collect_memory(SamplerState&, codec::MetricsInfo& out) {
  auto text = posix::read_file("/proc/meminfo", 64 * 1024);
  if (!text) return std::unexpected(text.error());
  auto mem = lp::parse_meminfo(*text);
  if (!mem) return fail("cannot parse /proc/meminfo");
  out.memory_total_bytes = mem->total;
  out.memory_used_bytes = mem->used;
  out.memory_available_bytes = mem->available;
  out.memory_cached_bytes = mem->cached;
  out.swap_total_bytes = mem->swap_total;
  out.swap_used_bytes = mem->swap_used;
  return {};
}

Status collect_filesystems(SamplerState&, codec::MetricsInfo& out) {
  auto text = posix::read_file("/proc/self/mounts", 4 << 20);
  if (!text) return std::unexpected(text.error());
  std::vector<codec::FilesystemInfo> list;
  for (const auto& m : lp::select_filesystems(lp::parse_mounts(*text), kMaxFilesystems)) {
    struct statvfs st {};
    if (::statvfs(m.mount_point.c_str(), &st) != 0 || st.f_blocks == 0) continue;
    const std::uint64_t unit = st.f_frsize ? st.f_frsize : st.f_bsize;
    codec::FilesystemInfo f;
    f.mount = clip_text(m.mount_point);
    f.fstype = clip_text(m.fstype);
    f.device = clip_text(m.device);
    f.total_bytes = st.f_blocks * unit;
    f.used_bytes = (st.f_blocks - std::min(st.f_bfree, st.f_blocks)) * unit;
    f.inodes_total = st.f_files;
    f.inodes_used = st.f_files - std::min(st.f_ffree, st.f_files);
    list.push_back(std::move(f));
  }
  out.filesystems = std::move(list);
  return {};
}

Status collect_disk_io(SamplerState&, codec::MetricsInfo& out) {
  auto text = posix::read_file("/proc/diskstats", 4 << 20);
  if (!text) return std::unexpected(text.error());
  std::unordered_set<std::string> whole;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/sys/block", ec), end; !ec && it != end;
       it.increment(ec)) {
    whole.insert(it->path().filename().string());
  }
  std::vector<codec::DiskIoInfo> list;
  for (const auto& d : lp::select_disks(lp::parse_diskstats(*text), whole, kMaxDisks)) {
    list.push_back(
        {clip_text(d.name), d.reads, d.writes, d.read_bytes, d.write_bytes, d.io_time_ms});
  }
  out.disks = std::move(list);
  return {};
}

Status collect_network(SamplerState&, codec::MetricsInfo& out) {
  auto text = posix::read_file("/proc/net/dev", 4 << 20);
  if (!text) return std::unexpected(text.error());
  std::vector<codec::NetIoInfo> list;
  for (const auto& n : lp::parse_net_dev(*text)) {
    if (list.size() >= kMaxNetInterfaces) break;
    list.push_back({clip_text(n.name), n.rx_bytes, n.rx_packets, n.rx_errors, n.rx_drops,
                    n.tx_bytes, n.tx_packets, n.tx_errors, n.tx_drops});
  }
  out.network = std::move(list);
  return {};
}

Status collect_temperatures(SamplerState&, codec::MetricsInfo& out) {
  out.temperatures = lp::read_temperatures("/sys", kMaxSensors);
  return {};
}

Status collect_uptime(SamplerState&, codec::MetricsInfo& out) {
  auto text = posix::read_file("/proc/uptime", 4096);
  if (!text) return std::unexpected(text.error());
  auto s = lp::parse_uptime_seconds(*text);
  if (!s) return fail("cannot parse /proc/uptime");
  out.uptime_s = *s;
  return {};
}

Status collect_processes(SamplerState& state, codec::MetricsInfo& out) {
  auto stat = read_proc_stat();
  if (!stat) return std::unexpected(stat.error());
  auto samples = lp::scan_processes("/proc", static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  const std::uint64_t elapsed =
      state.processes_total_ticks != 0 && stat->all.total > state.processes_total_ticks
          ? stat->all.total - state.processes_total_ticks
          : 0;
  std::unordered_map<std::uint32_t, lp::PreviousTicks> previous;
  previous.reserve(state.processes.size());
  for (const auto& [pid, t] : state.processes)
    previous.emplace(pid, lp::PreviousTicks{t.start_ticks, t.cpu_ticks});
  lp::compute_cpu_percent(samples, previous, elapsed);

  std::vector<codec::ProcessInfo> top;
  for (std::size_t i : lp::select_top_processes(samples, kTopProcesses)) {
    const auto& s = samples[i];
    auto details = lp::read_process_details("/proc", s, kMaxCmdlineBytes);
    if (!details) continue;  // exited since the scan
    top.push_back({s.pid, s.comm, details->uid ? user_name(state, *details->uid) : std::string(),
                   s.cpu_percent, s.rss_bytes, std::move(details->cmdline)});
  }
  state.processes.clear();
  for (const auto& s : samples) state.processes[s.pid] = {s.start_ticks, s.cpu_ticks};
  state.processes_total_ticks = stat->all.total;
  out.process_count = static_cast<std::uint32_t>(samples.size());
  out.top_processes = std::move(top);
  return {};
}

Status collect_users(SamplerState&, codec::MetricsInfo& out) {
  // No utmp file means nobody has logged in through a utmp-writing login since boot.
  auto bytes = posix::read_file("/run/utmp", 4 << 20);
  if (!bytes) {
    if (bytes.error().code != Error::Code::kNotFound) return std::unexpected(bytes.error());
    out.logged_in_users = 0;
    return {};
  }
  out.logged_in_users = lp::count_logged_in_users(*bytes);
  return {};
}

}  // namespace rmm::agent::platform
