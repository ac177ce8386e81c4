// Pure parsers for Linux text sources, split from the I/O so they are tested on fixture files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rmm::agent::linux_proc {

struct OsRelease {
  std::string name;     // NAME, e.g. "Debian GNU/Linux"
  std::string version;  // VERSION_ID, e.g. "12"
  std::string pretty;   // PRETTY_NAME
};

// /etc/os-release: KEY=value lines, values optionally quoted.
OsRelease parse_os_release(std::string_view text);

struct CpuInfo {
  std::string model;
  std::uint32_t logical_cpus = 0;
};
// /proc/cpuinfo: "model name" of the first processor and the number of "processor" entries.
CpuInfo parse_cpuinfo(std::string_view text);

// /proc/meminfo: the value of `key` ("MemTotal") in bytes.
std::optional<std::uint64_t> parse_meminfo_bytes(std::string_view text, std::string_view key);

// /proc/uptime: whole seconds since boot.
std::optional<std::uint64_t> parse_uptime_seconds(std::string_view text);

}  // namespace rmm::agent::linux_proc
