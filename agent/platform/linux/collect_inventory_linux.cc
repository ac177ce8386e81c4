// The Linux inventory collectors: the I/O around the pure parsers of this folder.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netpacket/packet.h>
#include <sys/utsname.h>

#include <bit>
#include <filesystem>

#include "agent/platform/collectors.h"
#include "agent/platform/linux/cpu_stat.h"
#include "agent/platform/linux/hardware.h"
#include "agent/platform/linux/meminfo.h"
#include "agent/platform/linux/packages.h"
#include "agent/platform/linux/proc_parsers.h"
#include "agent/platform/linux/systemd_units.h"
#include "agent/platform/linux/text_scan.h"
#include "agent/platform/posix/read_file.h"
#include "agent/platform/text_limits.h"
#include "common/platform/posix/capture_output.h"

namespace rmm::agent::platform {
namespace lp = linux_proc;
namespace fs = std::filesystem;
namespace {

std::string read_text(const fs::path& p) {
  auto text = posix::read_file(p, 4096);
  return text ? clip_text(lp::scan::trim(*text)) : std::string();
}

// The canonical name of `host` by the resolver (hosts file, then DNS). Falls back to the host
// name itself. Limitations: getaddrinfo has no timeout; a host with a dead DNS server delays the
// inventory (never the metrics) by the resolver's own timeout.
std::string resolve_fqdn(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_CANONNAME;
  addrinfo* res = nullptr;
  std::string fqdn = host;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) == 0 && res != nullptr) {
    if (res->ai_canonname != nullptr && *res->ai_canonname != '\0') {
      fqdn = clip_text(res->ai_canonname);
    }
    ::freeaddrinfo(res);
  }
  return fqdn;
}

std::string format_mac(const sockaddr_ll* ll) {
  std::string mac;
  for (int i = 0; i < ll->sll_halen && i < 8; ++i) {
    mac += fmt::format("{}{:02x}", i ? ":" : "", ll->sll_addr[i]);
  }
  return mac;
}

int prefix_length(const sockaddr* mask) {
  if (mask == nullptr) return 0;
  int bits = 0;
  if (mask->sa_family == AF_INET) {
    bits = std::popcount(reinterpret_cast<const sockaddr_in*>(mask)->sin_addr.s_addr);
  } else if (mask->sa_family == AF_INET6) {
    for (auto b : reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr.s6_addr) {
      bits += std::popcount(static_cast<unsigned>(b));
    }
  }
  return bits;
}

std::string format_address(const ifaddrs* ifa) {
  char buf[INET6_ADDRSTRLEN] = {};
  const void* src =
      ifa->ifa_addr->sa_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr)->sin_addr)
          : static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr)->sin6_addr);
  if (::inet_ntop(ifa->ifa_addr->sa_family, src, buf, sizeof buf) == nullptr) return {};
  return fmt::format("{}/{}", buf, prefix_length(ifa->ifa_netmask));
}

}  // namespace

Status collect_host_identity(codec::InventoryInfo& out) {
  struct utsname uts {};
  if (::uname(&uts) != 0) return fail("uname failed");
  out.hostname = clip_text(uts.nodename);
  out.kernel = clip_text(uts.release);
  out.arch = clip_text(uts.machine);
  out.fqdn = resolve_fqdn(out.hostname);

  auto os = posix::read_file("/etc/os-release", 64 * 1024);
  if (!os) os = posix::read_file("/usr/lib/os-release", 64 * 1024);
  if (os) {
    auto rel = lp::parse_os_release(*os);
    out.os_name = clip_text(rel.name);
    out.os_version = clip_text(rel.version);
    out.os_pretty = clip_text(rel.pretty);
  }
  if (out.os_name.empty()) out.os_name = clip_text(uts.sysname);

  if (auto text = posix::read_file("/proc/stat", 1 << 20)) {
    if (auto stat = lp::parse_proc_stat(*text)) {
      out.boot_time_ns = static_cast<std::int64_t>(stat->boot_time_s) * 1'000'000'000;
    }
  }
  for (const char* path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
    auto id = posix::read_file(path, 4096);
    if (id && lp::is_valid_machine_id(*id)) {
      out.machine_id = std::string(lp::scan::trim(*id));
      break;
    }
  }
  if (out.machine_id.empty()) return fail(Error::Code::kNotFound, "no valid /etc/machine-id");
  if (out.boot_time_ns == 0) return fail("cannot read the boot time from /proc/stat");
  return {};
}

Status collect_hardware(codec::InventoryInfo& out) {
  auto cpuinfo = posix::read_file("/proc/cpuinfo", 4 << 20);
  if (!cpuinfo) return std::unexpected(cpuinfo.error());
  out.cpu_model = clip_text(lp::parse_cpuinfo(*cpuinfo).model);
  auto topo = lp::parse_cpu_topology(*cpuinfo);
  out.cpu_sockets = topo.sockets;
  out.cpu_cores = topo.cores;
  out.cpu_threads = topo.threads;
  if (auto mem = posix::read_file("/proc/meminfo", 64 * 1024)) {
    if (auto m = lp::parse_meminfo(*mem)) out.memory_total_bytes = m->total;
  }
  // DMI exists only on firmware that has it (x86 PCs and most VMs); product_serial is
  // readable by root only. Either way its absence is not a failure.
  const fs::path dmi = "/sys/class/dmi/id";
  out.dmi_vendor = read_text(dmi / "sys_vendor");
  out.dmi_product = read_text(dmi / "product_name");
  out.dmi_serial = read_text(dmi / "product_serial");
  if (out.memory_total_bytes == 0) return fail("cannot read MemTotal from /proc/meminfo");
  return {};
}

Status collect_interfaces(codec::InventoryInfo& out) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return fail("getifaddrs failed");
  std::vector<codec::NetInterfaceInfo> result;
  auto find = [&](std::string_view name) -> codec::NetInterfaceInfo* {
    for (auto& i : result) {
      if (i.name == name) return &i;
    }
    if (result.size() >= kMaxNetInterfaces) return nullptr;
    result.push_back({clip_text(name), {}, {}});
    return &result.back();
  };
  for (const ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_name == nullptr) continue;
    auto* iface = find(ifa->ifa_name);
    if (iface == nullptr || ifa->ifa_addr == nullptr) continue;
    const int family = ifa->ifa_addr->sa_family;
    if (family == AF_PACKET) {
      iface->mac = format_mac(reinterpret_cast<const sockaddr_ll*>(ifa->ifa_addr));
    } else if ((family == AF_INET || family == AF_INET6) &&
               iface->addresses.size() < kMaxAddressesPerInterface) {
      auto addr = format_address(ifa);
      if (!addr.empty()) iface->addresses.push_back(std::move(addr));
    }
  }
  ::freeifaddrs(list);
  out.interfaces = std::move(result);
  return {};
}

Status collect_packages(codec::InventoryInfo& out) {
  const lp::PackageLimits limits{kMaxPackages, kMaxPackageListBytes};
  constexpr std::size_t kMaxDatabaseBytes = 64 << 20;
  if (fs::exists("/var/lib/dpkg/status")) {
    auto text = posix::read_file("/var/lib/dpkg/status", kMaxDatabaseBytes);
    if (!text) return std::unexpected(text.error());
    auto list = lp::parse_dpkg_status(*text, limits);
    out.package_manager = "dpkg";
    out.packages = std::move(list.packages);
    out.packages_truncated = list.truncated || text->size() >= kMaxDatabaseBytes;
    return {};
  }
  for (const char* rpm : {"/usr/bin/rpm", "/bin/rpm"}) {
    if (!fs::exists(rpm)) continue;
    auto run = rmm::posix::capture_output(
        {rpm, "-qa", "--qf", "%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\n"},
        {.timeout = std::chrono::seconds(60), .max_output = kMaxDatabaseBytes});
    if (!run) return std::unexpected(run.error());
    if (run->exit_code != 0) return failf("rpm -qa exited with {}", run->exit_code);
    auto list = lp::parse_rpm_qa(run->output, limits);
    out.package_manager = "rpm";
    out.packages = std::move(list.packages);
    out.packages_truncated = list.truncated || run->truncated;
    return {};
  }
  return fail(Error::Code::kNotFound, "no dpkg or rpm package database on this host");
}

Status collect_services(codec::InventoryInfo& out) {
  // systemd's own test for "booted with systemd" (sd_booted): this directory exists.
  if (!fs::exists("/run/systemd/system")) {
    out.services.clear();
    out.services_unavailable_reason = "systemd is not running (no /run/systemd/system)";
    return {};
  }
  const char* systemctl =
      fs::exists("/usr/bin/systemctl") ? "/usr/bin/systemctl" : "/bin/systemctl";
  auto run = rmm::posix::capture_output(
      {systemctl, "list-units", "--type=service", "--all", "--no-legend", "--plain", "--no-pager"},
      {.timeout = std::chrono::seconds(30), .max_output = 4 << 20});
  if (!run) return std::unexpected(run.error());
  if (run->exit_code != 0) return failf("systemctl list-units exited with {}", run->exit_code);
  auto list = lp::parse_systemctl_units(run->output, kMaxServices);
  out.services = std::move(list.services);
  out.services_truncated = list.truncated || run->truncated;
  out.services_unavailable_reason.clear();
  return {};
}

}  // namespace rmm::agent::platform
