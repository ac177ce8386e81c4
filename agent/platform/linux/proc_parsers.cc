#include "agent/platform/linux/proc_parsers.h"

#include <charconv>

#include "agent/platform/linux/text_scan.h"

namespace rmm::agent::linux_proc {
namespace {

using scan::for_each_line;
using scan::trim;

std::string unquote(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

}  // namespace

OsRelease parse_os_release(std::string_view text) {
  OsRelease r;
  for_each_line(text, [&](std::string_view line) {
    auto eq = line.find('=');
    if (eq == std::string_view::npos || line.starts_with('#')) return;
    auto key = trim(line.substr(0, eq));
    auto value = unquote(line.substr(eq + 1));
    if (key == "NAME")
      r.name = value;
    else if (key == "VERSION_ID")
      r.version = value;
    else if (key == "PRETTY_NAME")
      r.pretty = value;
  });
  return r;
}

CpuInfo parse_cpuinfo(std::string_view text) {
  CpuInfo c;
  for_each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto key = trim(line.substr(0, colon));
    if (key == "processor")
      ++c.logical_cpus;
    else if (key == "model name" && c.model.empty())
      c.model = std::string(trim(line.substr(colon + 1)));
  });
  return c;
}

std::optional<std::uint64_t> parse_meminfo_bytes(std::string_view text, std::string_view key) {
  std::optional<std::uint64_t> out;
  for_each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (out || colon == std::string_view::npos || trim(line.substr(0, colon)) != key) return;
    auto rest = trim(line.substr(colon + 1));
    std::uint64_t kb = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kb);
    if (ec != std::errc()) return;
    std::string_view unit = trim(std::string_view(ptr, rest.data() + rest.size() - ptr));
    out = unit == "kB" ? kb * 1024 : kb;
  });
  return out;
}

std::optional<std::uint64_t> parse_uptime_seconds(std::string_view text) {
  text = trim(text);
  std::uint64_t s = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  return s;
}

}  // namespace rmm::agent::linux_proc
