#include "agent/platform/linux/cpu_stat.h"

#include <array>
#include <charconv>

#include "agent/platform/linux/text_scan.h"

namespace rmm::agent::linux_proc {
namespace {

// "cpuN user nice system idle iowait irq softirq steal guest guest_nice"; kernels before 2.6.33
// print fewer columns, which count as 0.
std::optional<CpuTimes> parse_cpu_line(std::string_view rest) {
  std::array<std::uint64_t, 8> v{};
  std::size_t n = 0;
  for (; n < v.size(); ++n) {
    auto tok = scan::next_token(rest);
    if (tok.empty()) break;
    auto x = scan::to_number(tok);
    if (!x) return std::nullopt;
    v[n] = *x;
  }
  if (n < 4) return std::nullopt;
  const auto [user, nice, system, idle, iowait, irq, softirq, steal] = v;
  CpuTimes t;
  t.busy = user + nice + system + irq + softirq + steal;
  t.total = t.busy + idle + iowait;
  return t;
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  ProcStat out;
  bool have_all = false;
  bool bad = false;
  scan::for_each_line(text, [&](std::string_view line) {
    auto rest = line;
    auto key = scan::next_token(rest);
    if (key == "cpu") {
      auto t = parse_cpu_line(rest);
      if (!t)
        bad = true;
      else
        out.all = *t, have_all = true;
    } else if (key.starts_with("cpu") && scan::to_number<unsigned>(key.substr(3))) {
      if (auto t = parse_cpu_line(rest)) out.cpus.push_back(*t);
    } else if (key == "btime") {
      out.boot_time_s = scan::to_number(scan::next_token(rest)).value_or(0);
    }
  });
  if (!have_all || bad) return std::nullopt;
  return out;
}

float cpu_busy_percent(const CpuTimes& before, const CpuTimes& after) {
  if (after.total <= before.total || after.busy < before.busy) return 0.0f;
  const double busy = static_cast<double>(after.busy - before.busy);
  const double total = static_cast<double>(after.total - before.total);
  const double pct = 100.0 * busy / total;
  return static_cast<float>(pct > 100.0 ? 100.0 : pct);
}

std::optional<LoadAverage> parse_loadavg(std::string_view text) {
  LoadAverage out;
  float* dst[] = {&out.load1, &out.load5, &out.load15};
  for (float* d : dst) {
    auto tok = scan::next_token(text);
    auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), *d);
    if (ec != std::errc() || ptr != tok.data() + tok.size() || tok.empty()) return std::nullopt;
  }
  return out;
}

}  // namespace rmm::agent::linux_proc
