#include <sys/utsname.h>
#include <unistd.h>

#include "agent/platform/host_info.h"
#include "agent/platform/linux/proc_parsers.h"
#include "common/files.h"

namespace rmm::agent::platform {

Result<HostInfo> read_host_info() {
  HostInfo info;
  struct utsname uts {};
  if (::uname(&uts) != 0) return fail("uname failed");
  info.hostname = uts.nodename;
  info.kernel = uts.release;
  info.arch = uts.machine;

  // os-release is optional on minimal systems; the kernel name stands in for the OS then.
  auto os = files::read_all("/etc/os-release");
  if (!os) os = files::read_all("/usr/lib/os-release");
  if (os) {
    auto rel = linux_proc::parse_os_release(*os);
    info.os_name = rel.name;
    info.os_version = rel.version;
  }
  if (info.os_name.empty()) info.os_name = uts.sysname;

  if (auto cpu = files::read_all("/proc/cpuinfo")) {
    auto c = linux_proc::parse_cpuinfo(*cpu);
    info.cpu_model = c.model;
    info.cpu_count = c.logical_cpus;
  }
  if (info.cpu_count == 0)
    info.cpu_count = static_cast<std::uint32_t>(::sysconf(_SC_NPROCESSORS_ONLN));
  if (auto mem = files::read_all("/proc/meminfo")) {
    info.memory_total_bytes = linux_proc::parse_meminfo_bytes(*mem, "MemTotal").value_or(0);
  }
  return info;
}

Result<std::uint64_t> uptime_seconds() {
  auto text = files::read_all("/proc/uptime");
  if (!text) return std::unexpected(text.error());
  auto s = linux_proc::parse_uptime_seconds(*text);
  if (!s) return fail("cannot parse /proc/uptime");
  return *s;
}

Result<std::string> boot_id() {
  auto text = files::read_all("/proc/sys/kernel/random/boot_id");
  if (!text) return std::unexpected(text.error());
  while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
  if (text->empty()) return fail("empty /proc/sys/kernel/random/boot_id");
  return *text;
}

}  // namespace rmm::agent::platform
