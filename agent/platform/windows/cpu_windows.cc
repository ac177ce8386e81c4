// CPU busy share, whole machine and per logical processor.
#include <cstring>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/sdk_windows.h"
#include "agent/platform/windows/system_query_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

float busy_percent(const SamplerState::CpuTicks& before, const SamplerState::CpuTicks& after) {
  if (after.total <= before.total || after.busy < before.busy) return 0.0f;
  const double pct = 100.0 * static_cast<double>(after.busy - before.busy) /
                     static_cast<double>(after.total - before.total);
  return static_cast<float>(pct > 100.0 ? 100.0 : pct);
}

// Per-processor times. Limitations: NtQuerySystemInformation answers for the processor group of
// the calling thread only, so a machine with more than 64 logical processors reports the first
// group's.
Result<std::vector<SamplerState::CpuTicks>> per_processor_ticks() {
  const DWORD count = ::GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  const std::size_t entries = count == 0 ? 64 : count;
  auto bytes =
      query_system_information(SystemProcessorPerformanceInformation,
                               entries * sizeof(SYSTEM_PROCESSOR_PERFORMANCE_INFORMATION),
                               kMaxCores * sizeof(SYSTEM_PROCESSOR_PERFORMANCE_INFORMATION));
  if (!bytes) return std::unexpected(bytes.error());
  const std::size_t n = bytes->size() / sizeof(SYSTEM_PROCESSOR_PERFORMANCE_INFORMATION);
  std::vector<SamplerState::CpuTicks> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    SYSTEM_PROCESSOR_PERFORMANCE_INFORMATION p;
    std::memcpy(&p, bytes->data() + i * sizeof p, sizeof p);
    // KernelTime includes IdleTime.
    const auto total = static_cast<std::uint64_t>(p.KernelTime.QuadPart + p.UserTime.QuadPart);
    const auto idle = static_cast<std::uint64_t>(p.IdleTime.QuadPart);
    out.push_back({total >= idle ? total - idle : 0, total});
  }
  return out;
}

}  // namespace

Status collect_cpu(SamplerState& state, codec::MetricsInfo& out) {
  auto all = machine_cpu_time();
  if (!all) return std::unexpected(all.error());
  auto cores = per_processor_ticks();
  if (!cores) return std::unexpected(cores.error());
  if (cores->empty()) return fail("NtQuerySystemInformation reported no processors");

  std::vector<float> per_core(std::min(cores->size(), kMaxCores), 0.0f);
  out.cpu_percent = 0;
  out.cpu_interval_ms = 0;
  // A processor set that changed size restarts the baseline rather than comparing unlike.
  if (state.cpu.size() == cores->size() + 1) {
    const SamplerState::CpuTicks now{all->busy, all->total};
    out.cpu_percent = busy_percent(state.cpu[0], now);
    for (std::size_t i = 0; i < per_core.size(); ++i) {
      per_core[i] = busy_percent(state.cpu[i + 1], (*cores)[i]);
    }
    if (all->total > state.cpu[0].total) {
      // 100 ns ticks summed over every processor: per processor, then milliseconds.
      out.cpu_interval_ms =
          static_cast<std::uint32_t>((all->total - state.cpu[0].total) / cores->size() / 10'000);
    }
  }
  state.cpu.clear();
  state.cpu.push_back({all->busy, all->total});
  state.cpu.insert(state.cpu.end(), cores->begin(), cores->end());
  out.cpu_core_percent = std::move(per_core);
  return {};
}

}  // namespace rmm::agent::platform
