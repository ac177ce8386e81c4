#include "agent/platform/linux/sensors.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <system_error>

#include "agent/platform/linux/text_scan.h"
#include "agent/platform/posix/read_file.h"
#include "agent/platform/text_limits.h"

namespace rmm::agent::linux_proc {
namespace fs = std::filesystem;
namespace {

// Entries of `dir` named <prefix><number>, in numeric order (hwmon10 after hwmon9).
std::vector<std::pair<unsigned, fs::path>> numbered_entries(const fs::path& dir,
                                                            std::string_view prefix) {
  std::vector<std::pair<unsigned, fs::path>> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (!name.starts_with(prefix)) continue;
    auto n = scan::to_number<unsigned>(std::string_view(name).substr(prefix.size()));
    if (n) out.emplace_back(*n, it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_line(const fs::path& p) {
  auto text = posix::read_file(p, 4096);
  return text ? platform::clip_text(scan::trim(*text)) : std::string();
}

void read_thermal_zones(const fs::path& sys_root, std::size_t limit,
                        std::vector<codec::TemperatureInfo>& out) {
  for (const auto& [n, dir] : numbered_entries(sys_root / "class/thermal", "thermal_zone")) {
    if (out.size() >= limit) return;
    auto temp = posix::read_file(dir / "temp", 4096);
    if (!temp) continue;  // a zone that is disabled or gone reads as an error
    auto c = parse_millidegrees(*temp);
    if (!c) continue;
    auto type = read_line(dir / "type");
    out.push_back({"thermal_zone", type.empty() ? "thermal_zone" + std::to_string(n) : type, *c});
  }
}

void read_hwmon(const fs::path& sys_root, std::size_t limit,
                std::vector<codec::TemperatureInfo>& out) {
  for (const auto& [n, dir] : numbered_entries(sys_root / "class/hwmon", "hwmon")) {
    auto chip = read_line(dir / "name");
    if (chip.empty()) chip = "hwmon" + std::to_string(n);
    // tempN_input files; their numbers need not be contiguous.
    std::vector<unsigned> inputs;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      auto name = it->path().filename().string();
      if (!name.starts_with("temp") || !name.ends_with("_input")) continue;
      auto idx = std::string_view(name).substr(4, name.size() - 4 - 6);
      if (auto k = scan::to_number<unsigned>(idx)) inputs.push_back(*k);
    }
    std::sort(inputs.begin(), inputs.end());
    for (unsigned k : inputs) {
      if (out.size() >= limit) return;
      auto base = "temp" + std::to_string(k);
      auto value = posix::read_file(dir / (base + "_input"), 4096);
      if (!value) continue;
      auto c = parse_millidegrees(*value);
      if (!c) continue;
      auto label = read_line(dir / (base + "_label"));
      out.push_back({chip, label.empty() ? base : label, *c});
    }
  }
}

}  // namespace

std::optional<float> parse_millidegrees(std::string_view text) {
  auto milli = scan::to_number<long long>(scan::trim(text));
  if (!milli || *milli <= -100'000 || *milli >= 250'000) return std::nullopt;
  return static_cast<float>(*milli) / 1000.0f;
}

std::vector<codec::TemperatureInfo> read_temperatures(const fs::path& sys_root, std::size_t limit) {
  std::vector<codec::TemperatureInfo> out;
  read_thermal_zones(sys_root, limit, out);
  read_hwmon(sys_root, limit, out);
  return out;
}

}  // namespace rmm::agent::linux_proc
