#include "agent/platform/linux/packages.h"

#include "agent/platform/linux/text_scan.h"
#include "agent/platform/text_limits.h"

namespace rmm::agent::linux_proc {
namespace {

// Adds a package unless a limit is reached; false once the list is full.
bool add(PackageList& list, std::size_t& bytes, const PackageLimits& limits, codec::PackageInfo p) {
  if (p.name.empty()) return true;
  const std::size_t size = p.name.size() + p.version.size() + p.arch.size();
  if (list.packages.size() >= limits.max_packages || bytes + size > limits.max_bytes) {
    list.truncated = true;
    return false;
  }
  bytes += size;
  list.packages.push_back(std::move(p));
  return true;
}

}  // namespace

PackageList parse_dpkg_status(std::string_view text, const PackageLimits& limits) {
  PackageList list;
  std::size_t bytes = 0;
  codec::PackageInfo current;
  bool installed = false;
  bool full = false;
  auto flush = [&] {
    if (installed && !full) full = !add(list, bytes, limits, std::move(current));
    current = {};
    installed = false;
  };
  scan::for_each_line(text, [&](std::string_view line) {
    if (scan::trim(line).empty()) return flush();
    if (line.front() == ' ' || line.front() == '\t') return;  // continuation of a field
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto key = line.substr(0, colon);
    auto value = scan::trim(line.substr(colon + 1));
    if (key == "Package")
      current.name = platform::clip_text(value);
    else if (key == "Version")
      current.version = platform::clip_text(value);
    else if (key == "Architecture")
      current.arch = platform::clip_text(value);
    else if (key == "Status")
      installed = value.ends_with(" installed");
  });
  flush();
  return list;
}

PackageList parse_rpm_qa(std::string_view text, const PackageLimits& limits) {
  PackageList list;
  std::size_t bytes = 0;
  bool full = false;
  scan::for_each_line(text, [&](std::string_view line) {
    if (full) return;
    auto t1 = line.find('\t');
    if (t1 == std::string_view::npos) return;
    auto t2 = line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) return;
    auto arch = scan::trim(line.substr(t2 + 1));
    if (arch == "(none)") arch = {};
    full = !add(list, bytes, limits,
                {platform::clip_text(scan::trim(line.substr(0, t1))),
                 platform::clip_text(line.substr(t1 + 1, t2 - t1 - 1)), platform::clip_text(arch)});
  });
  return list;
}

}  // namespace rmm::agent::linux_proc
